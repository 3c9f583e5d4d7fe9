import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where the `vector` extension (pgvector) is available — PGlite bundles it, managed Postgres
 * services have it — chunks get an `embedding_vec vector` column beside the `real[]` one, which an
 * HNSW index searches (docs/file-search.md); vectors then live there only (`embedding` stays NULL). No fixed dimension: HNSW needs one, so the index is a
 * partial expression index per dimension, made at start for the configured embedding model
 * (`TypeOrmVectorStoresStore.prepareVectorIndex`). Without the extension (Debian's Postgres 15),
 * or without the right to create it, nothing changes: vectors stay `real[]`, compared exactly.
 * The entity does not declare the column (the schema is the same as without it elsewhere).
 */
export class VectorColumn1764000900000 implements MigrationInterface {
  name = 'VectorColumn1764000900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const available = (await queryRunner.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`)) as unknown[];
    if (!available.length) return;
    // Creating it can be refused (not a trusted extension, no CREATE on the database): then the
    // exact mode, as without it, rather than a server that cannot start.
    const inTransaction = queryRunner.isTransactionActive;
    if (inTransaction) await queryRunner.query('SAVEPOINT vector_extension');
    try {
      await queryRunner.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch {
      if (inTransaction) await queryRunner.query('ROLLBACK TO SAVEPOINT vector_extension');
      return;
    }
    await queryRunner.query(`ALTER TABLE "vector_store_chunks" ADD COLUMN IF NOT EXISTS "embedding_vec" vector NULL`);
    // Chunks embedded before the column existed move to it.
    await queryRunner.query(`UPDATE "vector_store_chunks" SET "embedding_vec" = "embedding"::vector, "embedding" = NULL WHERE cardinality("embedding") > 0`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Vectors back to `real[]` (exact search); the HNSW indexes go with the column. The extension
    // stays: something else may use it.
    const column = (await queryRunner.query(
      `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'vector_store_chunks' AND column_name = 'embedding_vec'`,
    )) as unknown[];
    if (!column.length) return;
    await queryRunner.query(`UPDATE "vector_store_chunks" SET "embedding" = "embedding_vec"::real[] WHERE "embedding_vec" IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE "vector_store_chunks" DROP COLUMN IF EXISTS "embedding_vec"`);
  }
}
