import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One row per conversation; its items are `conversation_items` rows. */
@Entity({ name: 'conversations' })
export class ConversationEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  owner!: string;

  /** Up to 16 string pairs, as the API takes them. */
  @Column({ type: 'jsonb' })
  metadata!: Record<string, string>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** Moves with every metadata update, append and item deletion. */
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
