import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One row per stored response: the request, the run's state (status, usage, error, incomplete
 * details, timestamps; output in `response_output_items`). The Response object is built on read.
 */
@Entity({ name: 'responses' })
@Index('responses_owner_seq', ['owner', 'seq'])
// Declared here so that the schema check sees them; their SQL (partial, expression) is the migrations'.
@Index('responses_unfinished', { synchronize: false })
@Index('responses_queue', { synchronize: false })
@Index('responses_queue_owner', { synchronize: false })
@Index('responses_run_token', { synchronize: false })
@Index('responses_windows', { synchronize: false })
@Index('responses_background_completed', { synchronize: false })
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

  /** Incremented by each claim of a background job; fences writes from an older attempt. */
  @Column({ type: 'integer', default: 0 })
  attempt!: number;

  /** Background scheduling class: 0 `soonest`, 1 a completion window (docs/background.md#scheduling). */
  @Column({ name: 'sched_class', type: 'smallint', default: 0 })
  schedClass!: number;

  /** The owner's fair-queuing tag: claims take the lowest of the class first. */
  @Column({ name: 'sched_tag', type: 'double precision', default: 0 })
  schedTag!: number;

  /** A windowed response is claimed ahead of `soonest` work from then on (its window's end less the model's margin). */
  @Column({ name: 'start_by', type: 'timestamptz', nullable: true })
  startBy!: Date | null;

  /** The end of a windowed response's completion window: still queued then, it fails (`rate_limit_exceeded`). */
  @Column({ name: 'window_end', type: 'timestamptz', nullable: true })
  windowEnd!: Date | null;

  /** The job that runs (or last ran) the response: a job whose worker died resumes it. */
  @Column({ name: 'run_token', type: 'text', nullable: true })
  runToken!: string | null;

  /** The normalized create parameters: everything a worker needs to run the response. */
  @Column({ type: 'jsonb' })
  request!: object;

  // What only the run produces (output: `response_output_items`); the Response is built on read.
  @Column({ type: 'jsonb', nullable: true })
  usage!: object | null;

  @Column({ type: 'jsonb', nullable: true })
  error!: object | null;

  @Column({ name: 'incomplete_details', type: 'jsonb', nullable: true })
  incompleteDetails!: object | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;
}
