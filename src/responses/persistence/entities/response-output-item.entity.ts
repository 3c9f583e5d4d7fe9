import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ResponseEntity } from './response.entity';

/** The output items of a response, in order: the only copy of `output` (the stored document has none), replayed by chains and found by `item_reference`. */
@Entity({ name: 'response_output_items' })
@Index('response_output_items_by_item', ['itemId'])
export class ResponseOutputItemEntity {
  @PrimaryColumn({ name: 'response_id', type: 'text' })
  responseId!: string;

  @PrimaryColumn({ type: 'integer' })
  position!: number;

  @Column({ name: 'item_id', type: 'text' })
  itemId!: string;

  @Column({ type: 'jsonb' })
  item!: object;

  @ManyToOne(() => ResponseEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'response_id', foreignKeyConstraintName: 'response_output_items_response_id_fkey' })
  response?: ResponseEntity;
}
