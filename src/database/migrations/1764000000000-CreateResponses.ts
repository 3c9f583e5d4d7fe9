import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateResponses1764000000000 implements MigrationInterface {
  name = 'CreateResponses1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "responses" (
        "id" text PRIMARY KEY,
        "seq" bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        "owner" text NOT NULL,
        "status" text NOT NULL
          CHECK ("status" IN ('queued', 'in_progress', 'completed', 'incomplete', 'failed', 'cancelled')),
        "background" boolean NOT NULL DEFAULT false,
        "model" text NOT NULL,
        "previous_response_id" text NULL,
        "conversation_id" text NULL,
        "attempt" integer NOT NULL DEFAULT 0,
        "request" jsonb NOT NULL,
        "response" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "completed_at" timestamptz NULL
      )`);
    await queryRunner.query(`CREATE INDEX "responses_owner_seq" ON "responses" ("owner", "seq")`);
    // The reconciler scans only unfinished rows; a partial index keeps that cheap at any table size.
    await queryRunner.query(`CREATE INDEX "responses_unfinished" ON "responses" ("status", "updated_at") WHERE "status" IN ('queued', 'in_progress')`);
    await queryRunner.query(`
      CREATE TABLE "response_input_items" (
        "response_id" text NOT NULL REFERENCES "responses" ("id") ON DELETE CASCADE,
        "position" integer NOT NULL,
        "item_id" text NOT NULL,
        "item" jsonb NOT NULL,
        PRIMARY KEY ("response_id", "position")
      )`);
    await queryRunner.query(`CREATE INDEX "response_input_items_item_id" ON "response_input_items" ("response_id", "item_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "response_input_items"`);
    await queryRunner.query(`DROP TABLE "responses"`);
  }
}
