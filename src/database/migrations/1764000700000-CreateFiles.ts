import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateFiles1764000700000 implements MigrationInterface {
  name = 'CreateFiles1764000700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A row is written before its content (state `uploading`, invisible to the API), so that every
    // piece of content has a row that names it: a failed upload deletes both, and the sweep finds
    // what a dead process left. `purpose` may arrive after the file in a form: unknown until `ready`.
    await queryRunner.query(`
      CREATE TABLE "files" (
        "id" text PRIMARY KEY,
        "seq" bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        "owner" text NOT NULL,
        "state" text NOT NULL CHECK ("state" IN ('uploading', 'ready')),
        "filename" text NOT NULL,
        "purpose" text,
        "content_type" text NOT NULL,
        "bytes" bigint NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz,
        CONSTRAINT "files_ready_check" CHECK ("state" = 'uploading' OR "purpose" IS NOT NULL)
      )`);
    await queryRunner.query(`CREATE INDEX "files_owner_seq" ON "files" ("owner", "seq")`);
    // The sweep's two scans, each over the few rows it may delete.
    await queryRunner.query(`CREATE INDEX "files_expiring" ON "files" ("expires_at") WHERE "expires_at" IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "files_uploading" ON "files" ("created_at") WHERE "state" = 'uploading'`);
    // The Postgres content store: a file in parts of at most 1 MiB, written and read one part at a time.
    await queryRunner.query(`
      CREATE TABLE "file_contents" (
        "file_id" text NOT NULL CONSTRAINT "file_contents_file_id_fkey" REFERENCES "files" ("id") ON DELETE CASCADE,
        "part" integer NOT NULL,
        "data" bytea NOT NULL,
        PRIMARY KEY ("file_id", "part")
      )`);
    // Each tenant's stored bytes: one row that concurrent uploads update in turn, so the quota holds
    // under concurrency (a SUM over `files` in each upload's snapshot would let two pass together).
    await queryRunner.query(`
      CREATE TABLE "file_usage" (
        "owner" text PRIMARY KEY,
        "bytes" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "file_usage_bytes_check" CHECK ("bytes" >= 0)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "file_usage"`);
    await queryRunner.query(`DROP TABLE "file_contents"`);
    await queryRunner.query(`DROP TABLE "files"`);
  }
}
