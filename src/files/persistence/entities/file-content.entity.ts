import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { FileEntity } from './file.entity';

/** The Postgres content store: a file's bytes in parts of at most 1 MiB, deleted with its row. */
@Entity({ name: 'file_contents' })
export class FileContentEntity {
  @PrimaryColumn({ name: 'file_id', type: 'text' })
  fileId!: string;

  @PrimaryColumn({ type: 'integer' })
  part!: number;

  @Column({ type: 'bytea' })
  data!: Buffer;

  @ManyToOne(() => FileEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'file_id', foreignKeyConstraintName: 'file_contents_file_id_fkey' })
  file?: FileEntity;
}
