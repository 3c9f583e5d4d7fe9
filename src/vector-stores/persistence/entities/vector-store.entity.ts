import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One row per vector store; its files are `vector_store_files` rows, their chunks `vector_store_chunks`. */
@Entity({ name: 'vector_stores' })
@Index('vector_stores_owner', ['owner', 'createdAt'])
export class VectorStoreEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  owner!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'jsonb' })
  metadata!: Record<string, string>;

  /** `{anchor: 'last_active_at', days}` or null. */
  @Column({ name: 'expires_after', type: 'jsonb', nullable: true })
  expiresAfter!: { anchor: 'last_active_at'; days: number } | null;

  @Column({ name: 'last_active_at', type: 'timestamptz', default: () => 'now()' })
  lastActiveAt!: Date;

  /** The embedding model the store's chunks were embedded with, fixed at creation; null: keyword search only. */
  @Column({ name: 'embedding_model', type: 'text', nullable: true })
  embeddingModel!: string | null;

  @Column({ type: 'integer', nullable: true })
  dimensions!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
