import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One row per file: its metadata (the content is the content store's). `uploading` rows are being
 * written (or were abandoned by a process that died) and are never shown.
 */
@Entity({ name: 'files' })
@Index('files_owner_seq', ['owner', 'seq'])
// Declared here so that the schema check sees them; their SQL (partial) is the migration's.
@Index('files_expiring', { synchronize: false })
@Index('files_uploading', { synchronize: false })
@Check('files_state_check', `"state" IN ('uploading', 'ready')`)
@Check('files_ready_check', `"state" = 'uploading' OR "purpose" IS NOT NULL`)
export class FileEntity {
  /** `file-…`; a text key that later tables (vector store files) reference. */
  @PrimaryColumn({ type: 'text' })
  id!: string;

  /** Total order for list pagination (`created_at` ties within a millisecond). */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS', unique: true })
  seq!: string;

  @Column({ type: 'text' })
  owner!: string;

  @Column({ type: 'text' })
  state!: 'uploading' | 'ready';

  @Column({ type: 'text' })
  filename!: string;

  /** Null only while uploading (a form may send it after the file). */
  @Column({ type: 'text', nullable: true })
  purpose!: string | null;

  /** What `GET /v1/files/{id}/content` answers with. */
  @Column({ name: 'content_type', type: 'text' })
  contentType!: string;

  @Column({ type: 'bigint', default: 0 })
  bytes!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;
}
