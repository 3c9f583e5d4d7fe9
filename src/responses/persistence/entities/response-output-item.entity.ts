import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The output items of a response, in order: the only copy of `output` (the stored document has none), replayed by chains and found by `item_reference`. No foreign key, like the input items. */
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
}
