import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The input items of a response, in order; paginated by `inputItems.list` and replayed by chains. No foreign key to `responses` (migration 1764001100000): a trigger removes a deleted response's items. */
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
}
