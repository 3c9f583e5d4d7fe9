import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** Each tenant's stored bytes (ready files), kept by the same statements that add and delete files. */
@Entity({ name: 'file_usage' })
@Check('file_usage_bytes_check', `"bytes" >= 0`)
export class FileUsageEntity {
  @PrimaryColumn({ type: 'text' })
  owner!: string;

  @Column({ type: 'bigint', default: 0 })
  bytes!: string;
}
