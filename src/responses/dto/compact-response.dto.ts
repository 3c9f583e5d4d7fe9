import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsStringOrArray } from './validators';
import { ResponseUsageDto } from './response.dto';

/**
 * `POST /v1/responses/compact`: a window to compact, given as `input` and/or `previous_response_id`.
 * Other create fields a client sends with it (Codex sends its tools, reasoning and text settings)
 * are ignored: the summary is written without tools.
 */
export class CompactResponseDto {
  /** The model that writes the summary, as listed by `GET /v1/models`. */
  @ApiProperty({ example: 'echo' })
  @IsDefined()
  @IsString()
  @IsNotEmpty()
  model!: string;

  /** The window's items (or text); the `previous_response_id` chain's items come before them. */
  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', additionalProperties: true } }] })
  @IsOptional()
  @IsStringOrArray()
  input?: string | unknown[] | null;

  @IsOptional()
  @IsString()
  previous_response_id?: string | null;

  /** The system message the window was run with (the summarizing model sees it too). */
  @IsOptional()
  @IsString()
  instructions?: string | null;

  /** Keeps the summarizing call on the replica that holds the window's prefix cache. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  prompt_cache_key?: string | null;
}

const ITEM = { type: 'object', additionalProperties: true } as const;

/** What `POST /v1/responses/compact` answers: the new window (retained user messages, then one `compaction` item). */
export class CompactedResponseDto {
  @ApiProperty({ example: 'resp_0f3c6e1a9b7d4c2e8f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c' })
  id!: string;
  @ApiProperty({ enum: ['response.compaction'] })
  object!: 'response.compaction';
  @ApiProperty({ example: 1764967971 })
  created_at!: number;
  @ApiProperty({ type: 'array', items: ITEM })
  output!: unknown[];
  @ApiProperty({ type: ResponseUsageDto })
  usage!: ResponseUsageDto;
}
