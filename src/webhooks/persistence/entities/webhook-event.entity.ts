import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The outbox: one row per terminal status change of a background response that someone subscribed to. Written by a trigger. */
@Entity({ name: 'webhook_events' })
@Index('webhook_events_created_at', ['createdAt'])
export class WebhookEventEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  owner!: string;

  /** `response.completed`, `response.failed`, `response.cancelled` or `response.incomplete`. */
  @Column({ type: 'text' })
  type!: string;

  @Column({ name: 'response_id', type: 'text' })
  responseId!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
