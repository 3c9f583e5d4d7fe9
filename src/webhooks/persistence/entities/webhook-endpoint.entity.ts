import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A tenant's webhook endpoint. `secret` (and `previous_secret` during a rotation) is sealed when SECRETS_KEY is set. */
@Entity({ name: 'webhook_endpoints' })
@Index('webhook_endpoints_owner', ['owner', 'createdAt'])
export class WebhookEndpointEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  owner!: string;

  @Column({ type: 'text' })
  url!: string;

  @Column({ name: 'event_types', type: 'text', array: true })
  eventTypes!: string[];

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason!: string | null;

  @Column({ type: 'text' })
  secret!: string;

  /** The secret before the last rotation: still signs until `previous_secret_expires_at`. */
  @Column({ name: 'previous_secret', type: 'text', nullable: true })
  previousSecret!: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt!: Date | null;

  /** Set by the first failed attempt after a success; an endpoint failing for a whole retry window is disabled. */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
