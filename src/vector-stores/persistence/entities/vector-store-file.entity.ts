import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { FileEntity } from '../../../files/persistence/entities/file.entity';
import { VectorStoreEntity } from './vector-store.entity';

/**
 * A file in a vector store and its ingestion: `in_progress` until a run ends it (`completed`,
 * `failed` with `last_error`) or a cancel does. `attempt` fences an older run's writes, as a
 * background response's does. Deleting the file (Files API) or the store removes the row and its chunks.
 */
@Entity({ name: 'vector_store_files' })
@Index('vector_store_files_listing', ['vectorStoreId', 'createdAt'])
@Index('vector_store_files_batch', ['batchId'])
@Index('vector_store_files_file', ['fileId'])
@Index('vector_store_files_unfinished', { synchronize: false })
@Check('vector_store_files_status_check', `"status" IN ('in_progress', 'completed', 'cancelled', 'failed')`)
export class VectorStoreFileEntity {
  @PrimaryColumn({ name: 'vector_store_id', type: 'text' })
  vectorStoreId!: string;

  @PrimaryColumn({ name: 'file_id', type: 'text' })
  fileId!: string;

  @Column({ type: 'text' })
  owner!: string;

  @Column({ name: 'batch_id', type: 'text', nullable: true })
  batchId!: string | null;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'last_error', type: 'jsonb', nullable: true })
  lastError!: { code: string; message: string } | null;

  @Column({ name: 'usage_bytes', type: 'bigint', default: 0 })
  usageBytes!: string;

  @Column({ name: 'chunking_strategy', type: 'jsonb' })
  chunkingStrategy!: object;

  @Column({ type: 'jsonb', nullable: true })
  attributes!: Record<string, string | number | boolean> | null;

  @Column({ type: 'integer', default: 0 })
  attempt!: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @ManyToOne(() => VectorStoreEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'vector_store_id', foreignKeyConstraintName: 'vector_store_files_vector_store_id_fkey' })
  vectorStore?: VectorStoreEntity;

  @ManyToOne(() => FileEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'file_id', foreignKeyConstraintName: 'vector_store_files_file_id_fkey' })
  file?: FileEntity;
}
