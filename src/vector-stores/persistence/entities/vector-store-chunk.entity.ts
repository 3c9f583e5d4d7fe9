import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { VectorStoreFileEntity } from './vector-store-file.entity';

/**
 * A chunk of a file's text, written by one ingestion attempt (only the attempt the file row names
 * is searched: an interrupted run's chunks are never read, and are removed by the next claim).
 * `tsv` is the keyword index (GIN); `embedding` the vector, when the store has an embedding model.
 * Where pgvector exists, the vector is in `embedding_vec vector` instead (migration 1764000900000,
 * HNSW indexes made at start): not declared here, the schema elsewhere has no such column.
 */
@Entity({ name: 'vector_store_chunks' })
@Index('vector_store_chunks_file', ['vectorStoreId', 'fileId', 'attempt', 'position'])
@Index('vector_store_chunks_tsv', { synchronize: false })
export class VectorStoreChunkEntity {
  @PrimaryColumn({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ name: 'vector_store_id', type: 'text' })
  vectorStoreId!: string;

  @Column({ name: 'file_id', type: 'text' })
  fileId!: string;

  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ type: 'integer' })
  position!: number;

  @Column({ type: 'text' })
  text!: string;

  @Column({ type: 'integer' })
  tokens!: number;

  @Column({ type: 'tsvector' })
  tsv!: string;

  @Column({ type: 'real', array: true, nullable: true })
  embedding!: number[] | null;

  @ManyToOne(() => VectorStoreFileEntity, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'vector_store_id', referencedColumnName: 'vectorStoreId', foreignKeyConstraintName: 'vector_store_chunks_file_fkey' },
    { name: 'file_id', referencedColumnName: 'fileId', foreignKeyConstraintName: 'vector_store_chunks_file_fkey' },
  ])
  file?: VectorStoreFileEntity;
}
