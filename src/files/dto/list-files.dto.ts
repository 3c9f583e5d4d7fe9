import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MaxLength } from 'class-validator';
import { toInt } from '../../common/dto/page-query.dto';
import { FILE_PURPOSES } from '../persistence/files.store';

/** `GET /v1/files`: `purpose`, `after`, `limit` (1–10,000, default 10,000 as OpenAI), `order` (default `desc`). */
export class ListFilesQueryDto {
  /** Only files uploaded for this purpose. */
  @ApiPropertyOptional({ enum: FILE_PURPOSES })
  @IsOptional()
  @IsIn(FILE_PURPOSES)
  purpose?: string;

  /** A file id: list the files that come after it in this order. */
  @IsOptional()
  @IsString()
  @MaxLength(128)
  after?: string;

  /** How many files to return, 1 to 10,000 (default 10,000). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;

  /** By creation: `asc` or `desc` (default `desc`, newest first). */
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';
}
