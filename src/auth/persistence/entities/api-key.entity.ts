import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An API key: only its SHA-256 digest is stored; the secret is shown once, at creation. */
@Entity({ name: 'api_keys' })
@Index('api_keys_owner', ['owner'])
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  /** The tenant whose rows this key reads and writes. */
  @Column({ type: 'text' })
  owner!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', unique: true })
  digest!: string;

  /** The first characters of the secret, to recognize a key in a list. */
  @Column({ type: 'text' })
  prefix!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
