import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsMetadata, validatorDecorator, isPlainObject } from '../../common/dto/validators';
import { PageQueryDto } from '../../common/dto/page-query.dto';

/** OpenAI's limit on the files one request may add. */
export const MAX_FILES_PER_REQUEST = 500;
const METADATA_SCHEMA = { type: 'object', additionalProperties: { type: 'string' } } as const;
const ATTRIBUTES_SCHEMA = {
  type: 'object' as const,
  additionalProperties: { oneOf: [{ type: 'string' as const }, { type: 'number' as const }, { type: 'boolean' as const }] },
};
const CHUNKING_SCHEMA = {
  type: 'object',
  description: '`{"type": "auto"}` or `{"type": "static", "static": {"max_chunk_size_tokens": 100-4096, "chunk_overlap_tokens": ≤ half of it}}`',
  additionalProperties: true,
} as const;

/** OpenAI's file attributes: at most 16 keys (≤ 64 characters), string values ≤ 512 characters, numbers or booleans. */
export const IsAttributes = () =>
  validatorDecorator(
    'isAttributes',
    'must be an object of at most 16 keys (up to 64 characters) whose values are strings (up to 512 characters), numbers or booleans',
    (v) =>
      isPlainObject(v) &&
      Object.keys(v).length <= 16 &&
      Object.entries(v).every(
        ([k, val]) =>
          k.length <= 64 && ((typeof val === 'string' && val.length <= 512) || typeof val === 'boolean' || (typeof val === 'number' && Number.isFinite(val))),
      ),
  );

export class ExpiresAfterDto {
  @IsIn(['last_active_at'])
  anchor!: 'last_active_at';

  /** 1 to 365 days after the store was last active. */
  @IsInt()
  @Min(1)
  @Max(365)
  days!: number;
}

/** `POST /v1/vector_stores`. */
export class CreateVectorStoreDto {
  @ApiPropertyOptional({ maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  name?: string;

  @ApiPropertyOptional({ maxLength: 512 })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  description?: string;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_FILES_PER_REQUEST })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_FILES_PER_REQUEST)
  @IsString({ each: true })
  file_ids?: string[];

  @ApiPropertyOptional(CHUNKING_SCHEMA)
  @IsOptional()
  chunking_strategy?: unknown;

  @ApiPropertyOptional({ type: ExpiresAfterDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ExpiresAfterDto)
  expires_after?: ExpiresAfterDto;

  @ApiPropertyOptional({ ...METADATA_SCHEMA, nullable: true })
  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, string> | null;
}

/** `POST /v1/vector_stores/{id}`: what is given changes (`null` clears). */
export class UpdateVectorStoreDto {
  @ApiPropertyOptional({ maxLength: 256, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  name?: string | null;

  @ApiPropertyOptional({ type: ExpiresAfterDto, nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => ExpiresAfterDto)
  expires_after?: ExpiresAfterDto | null;

  @ApiPropertyOptional({ ...METADATA_SCHEMA, nullable: true })
  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, string> | null;
}

export class ListVectorStoresQueryDto extends PageQueryDto {
  @IsOptional()
  @IsString()
  before?: string;
}

const FILE_STATUSES = ['in_progress', 'completed', 'failed', 'cancelled'] as const;

export class ListVectorStoreFilesQueryDto extends ListVectorStoresQueryDto {
  @ApiPropertyOptional({ enum: FILE_STATUSES })
  @IsOptional()
  @IsIn(FILE_STATUSES)
  filter?: (typeof FILE_STATUSES)[number];
}

/** `POST /v1/vector_stores/{id}/files`. */
export class CreateVectorStoreFileDto {
  @IsString()
  @MaxLength(128)
  file_id!: string;

  @ApiPropertyOptional({ ...ATTRIBUTES_SCHEMA, nullable: true })
  @IsOptional()
  @IsAttributes()
  attributes?: Record<string, string | number | boolean> | null;

  @ApiPropertyOptional(CHUNKING_SCHEMA)
  @IsOptional()
  chunking_strategy?: unknown;
}

/** `POST /v1/vector_stores/{id}/files/{file_id}`. */
export class UpdateVectorStoreFileDto {
  @ApiPropertyOptional({ ...ATTRIBUTES_SCHEMA, nullable: true })
  @ValidateIf((o: UpdateVectorStoreFileDto) => o.attributes !== null)
  @IsDefined()
  @IsAttributes()
  attributes!: Record<string, string | number | boolean> | null;
}

/** `POST /v1/vector_stores/{id}/file_batches`: `file_ids` or `files`, not both. */
export class CreateFileBatchDto {
  @ApiPropertyOptional({ type: [String], maxItems: MAX_FILES_PER_REQUEST })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_FILES_PER_REQUEST)
  @IsString({ each: true })
  file_ids?: string[];

  @ApiPropertyOptional({ type: [CreateVectorStoreFileDto], maxItems: MAX_FILES_PER_REQUEST })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_FILES_PER_REQUEST)
  @ValidateNested({ each: true })
  @Type(() => CreateVectorStoreFileDto)
  files?: CreateVectorStoreFileDto[];

  @ApiPropertyOptional({ ...ATTRIBUTES_SCHEMA, nullable: true })
  @IsOptional()
  @IsAttributes()
  attributes?: Record<string, string | number | boolean> | null;

  @ApiPropertyOptional(CHUNKING_SCHEMA)
  @IsOptional()
  chunking_strategy?: unknown;
}

export class RankingOptionsDto {
  @IsOptional()
  @IsIn(['none', 'auto', 'default-2024-11-15'])
  ranker?: 'none' | 'auto' | 'default-2024-11-15';

  /** Results scoring below it are left out (scores are in [0, 1]). */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  score_threshold?: number;
}

/** `POST /v1/vector_stores/{id}/search`. */
export class SearchVectorStoreDto {
  @ApiPropertyOptional({
    oneOf: [
      { type: 'string', maxLength: 4096 },
      { type: 'array', items: { type: 'string' }, maxItems: 10 },
    ],
  })
  @ValidateIf(() => true)
  @IsDefined()
  query!: string | string[];

  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 10 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  max_num_results?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'A comparison (`eq`…`nin`) or compound (`and`/`or`) filter on file attributes',
  })
  @IsOptional()
  filters?: unknown;

  @ApiPropertyOptional({ type: RankingOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RankingOptionsDto)
  ranking_options?: RankingOptionsDto;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  rewrite_query?: boolean;
}
