import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ResponseEntity } from './response.entity';

/** The input items of a response, in order; paginated by `inputItems.list` and replayed by chains. */
@Entity({ name: 'response_input_items' })
@Index('response_input_items_item_id', ['responseId', 'itemId'])
@Index('response_input_items_by_item', ['itemId'])
export class ResponseInputItemEntity {
  @PrimaryColumn({ name: 'response_id', type: 'text' })
  responseId!: string;

  @PrimaryColumn({ type: 'integer' })
  position!: number;

  @Column({ name: 'item_id', type: 'text' })
  itemId!: string;

  @Column({ type: 'jsonb' })
  item!: object;

  @ManyToOne(() => ResponseEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'response_id', foreignKeyConstraintName: 'response_input_items_response_id_fkey' })
  response?: ResponseEntity;
}
