import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ConversationEntity } from './conversation.entity';

/** The items of a conversation, in `seq` order (an identity: a total order across concurrent appends). */
@Entity({ name: 'conversation_items' })
@Index('conversation_items_item_id', ['conversationId', 'itemId'], { unique: true })
export class ConversationItemEntity {
  @PrimaryColumn({ name: 'conversation_id', type: 'text' })
  conversationId!: string;

  @PrimaryColumn({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  seq!: string;

  @Column({ name: 'item_id', type: 'text' })
  itemId!: string;

  @Column({ type: 'jsonb' })
  item!: object;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @ManyToOne(() => ConversationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'conversation_id', foreignKeyConstraintName: 'conversation_items_conversation_id_fkey' })
  conversation?: ConversationEntity;
}
