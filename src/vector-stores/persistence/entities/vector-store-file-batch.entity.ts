import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { VectorStoreEntity } from './vector-store.entity';

/** A batch of files added together; its counts come from its `vector_store_files` rows. */
@Entity({ name: 'vector_store_file_batches' })
export class VectorStoreFileBatchEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ name: 'vector_store_id', type: 'text' })
  vectorStoreId!: string;

  @Column({ type: 'text' })
  owner!: string;

  @Column({ type: 'boolean', default: false })
  cancelled!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @ManyToOne(() => VectorStoreEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'vector_store_id', foreignKeyConstraintName: 'vector_store_file_batches_vector_store_id_fkey' })
  vectorStore?: VectorStoreEntity;
}
