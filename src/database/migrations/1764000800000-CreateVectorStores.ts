import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Vector stores, their files (with ingestion state), file batches and chunks. Chunks carry a
 * `tsvector` (GIN: keyword search, always available) and, when the store has an embedding model,
 * a `real[]` vector compared exactly (docs/file-search.md). Deleting a file, a store or a store's
 * file removes its chunks in the same statement (foreign keys, ON DELETE CASCADE).
 */
export class CreateVectorStores1764000800000 implements MigrationInterface {
  name = 'CreateVectorStores1764000800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "vector_stores" (
        "id" text PRIMARY KEY,
        "owner" text NOT NULL,
        "name" text NOT NULL,
        "description" text NULL,
        "metadata" jsonb NOT NULL,
        "expires_after" jsonb NULL,
        "last_active_at" timestamptz NOT NULL DEFAULT now(),
        "embedding_model" text NULL,
        "dimensions" integer NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX "vector_stores_owner" ON "vector_stores" ("owner", "created_at")`);
    await queryRunner.query(`
      CREATE TABLE "vector_store_files" (
        "vector_store_id" text NOT NULL
          CONSTRAINT "vector_store_files_vector_store_id_fkey" REFERENCES "vector_stores" ("id") ON DELETE CASCADE,
        "file_id" text NOT NULL
          CONSTRAINT "vector_store_files_file_id_fkey" REFERENCES "files" ("id") ON DELETE CASCADE,
        "owner" text NOT NULL,
        "batch_id" text NULL,
        "status" text NOT NULL,
        "last_error" jsonb NULL,
        "usage_bytes" bigint NOT NULL DEFAULT 0,
        "chunking_strategy" jsonb NOT NULL,
        "attributes" jsonb NULL,
        "attempt" integer NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "vector_store_files_pkey" PRIMARY KEY ("vector_store_id", "file_id"),
        CONSTRAINT "vector_store_files_status_check" CHECK ("status" IN ('in_progress', 'completed', 'cancelled', 'failed'))
      )`);
    await queryRunner.query(`CREATE INDEX "vector_store_files_listing" ON "vector_store_files" ("vector_store_id", "created_at")`);
    await queryRunner.query(`CREATE INDEX "vector_store_files_batch" ON "vector_store_files" ("batch_id")`);
    await queryRunner.query(`CREATE INDEX "vector_store_files_file" ON "vector_store_files" ("file_id")`);
    // What the ingestion reconciler scans.
    await queryRunner.query(`CREATE INDEX "vector_store_files_unfinished" ON "vector_store_files" ("updated_at") WHERE "status" = 'in_progress'`);
    await queryRunner.query(`
      CREATE TABLE "vector_store_file_batches" (
        "id" text PRIMARY KEY,
        "vector_store_id" text NOT NULL
          CONSTRAINT "vector_store_file_batches_vector_store_id_fkey" REFERENCES "vector_stores" ("id") ON DELETE CASCADE,
        "owner" text NOT NULL,
        "cancelled" boolean NOT NULL DEFAULT false,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "vector_store_chunks" (
        "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        "vector_store_id" text NOT NULL,
        "file_id" text NOT NULL,
        "attempt" integer NOT NULL,
        "position" integer NOT NULL,
        "text" text NOT NULL,
        "tokens" integer NOT NULL,
        "tsv" tsvector NOT NULL,
        "embedding" real[] NULL,
        CONSTRAINT "vector_store_chunks_file_fkey" FOREIGN KEY ("vector_store_id", "file_id")
          REFERENCES "vector_store_files" ("vector_store_id", "file_id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "vector_store_chunks_file" ON "vector_store_chunks" ("vector_store_id", "file_id", "attempt", "position")`);
    await queryRunner.query(`CREATE INDEX "vector_store_chunks_tsv" ON "vector_store_chunks" USING gin ("tsv")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "vector_store_chunks"`);
    await queryRunner.query(`DROP TABLE "vector_store_file_batches"`);
    await queryRunner.query(`DROP TABLE "vector_store_files"`);
    await queryRunner.query(`DROP TABLE "vector_stores"`);
  }
}
