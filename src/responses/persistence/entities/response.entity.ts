import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One row per stored response. `response` holds the Response object as last written, but for `output` (rows of `response_output_items`). */
@Entity({ name: 'responses' })
@Index('responses_owner_seq', ['owner', 'seq'])
// Declared here so that the schema check sees them; their SQL (partial, expression) is the migrations'.
@Index('responses_unfinished', { synchronize: false })
@Check('responses_status_check', `"status" IN ('queued', 'in_progress', 'completed', 'incomplete', 'failed', 'cancelled')`)
export class ResponseEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  /** Total order for list pagination (`created_at` ties within a millisecond). */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS', unique: true })
  seq!: string;

  @Column({ type: 'text' })
  owner!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'boolean', default: false })
  background!: boolean;

  @Column({ type: 'text' })
  model!: string;

  @Column({ name: 'previous_response_id', type: 'text', nullable: true })
  previousResponseId!: string | null;

  @Column({ name: 'conversation_id', type: 'text', nullable: true })
  conversationId!: string | null;

  /** Incremented by each claim of a background job; fences writes from an older attempt. */
  @Column({ type: 'integer', default: 0 })
  attempt!: number;

  /** The normalized create parameters: everything a worker needs to run the response. */
  @Column({ type: 'jsonb' })
  request!: object;

  @Column({ type: 'jsonb' })
  response!: object;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;
}
