import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FILE_PURPOSES } from '../persistence/files.store';

// Documentation-only classes: the OpenAPI schemas of what the endpoints take and return.

/** `POST /v1/files` (multipart/form-data). */
export class CreateFileDto {
  /** The file (a form part with a filename), at most FILES_MAX_BYTES. */
  @ApiProperty({ type: 'string', format: 'binary' })
  file!: unknown;

  @ApiProperty({ enum: FILE_PURPOSES })
  purpose!: string;

  /** Expire the file `seconds` (3600 to 2592000) after it is created. Sent as `expires_after[anchor]` and `expires_after[seconds]`. */
  @ApiPropertyOptional({
    type: 'object',
    properties: { anchor: { type: 'string', enum: ['created_at'] }, seconds: { type: 'integer', minimum: 3600, maximum: 2592000 } },
    required: ['anchor', 'seconds'],
  })
  expires_after?: { anchor: 'created_at'; seconds: number };
}

export class FileDto {
  @ApiProperty({ example: 'file-0f3c6e1a9b7d4c2e8f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c' })
  id!: string;
  @ApiProperty({ enum: ['file'] })
  object!: 'file';
  /** Size in bytes. */
  @ApiProperty({ example: 1024 })
  bytes!: number;
  /** Unix seconds. */
  @ApiProperty({ example: 1764000000 })
  created_at!: number;
  /** Unix seconds; absent when the file does not expire. */
  @ApiPropertyOptional({ example: 1766592000 })
  expires_at?: number;
  @ApiProperty({ example: 'handbook.pdf' })
  filename!: string;
  @ApiProperty({ enum: FILE_PURPOSES })
  purpose!: string;
  /** Always `processed`: a file is shown once all its bytes are stored. */
  @ApiProperty({ enum: ['processed'] })
  status!: 'processed';
}

export class FileListDto {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';
  @ApiProperty({ type: [FileDto] })
  data!: FileDto[];
  @ApiPropertyOptional({ type: String, nullable: true })
  first_id!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true })
  last_id!: string | null;
  has_more!: boolean;
}

export class DeletedFileDto {
  id!: string;
  @ApiProperty({ enum: ['file'] })
  object!: 'file';
  @ApiProperty({ enum: [true] })
  deleted!: true;
}
