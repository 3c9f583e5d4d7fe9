import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Output items get a table of their own, like input items: an `item_reference` is then one index
 * lookup by item id that reads just the item. Before, each id was a jsonb containment test that
 * unpacked every candidate's whole stored Response again (memory grew with ids × response size: one
 * tenant could exhaust a Postgres backend). The stored Response document no longer carries `output`;
 * the store puts it back on read.
 */
export class OutputItemsTable1764000500000 implements MigrationInterface {
  name = 'OutputItemsTable1764000500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "response_output_items" (
        "response_id" text NOT NULL,
        "position" integer NOT NULL,
        "item_id" text NOT NULL,
        "item" jsonb NOT NULL,
        CONSTRAINT "response_output_items_pkey" PRIMARY KEY ("response_id", "position"),
        CONSTRAINT "response_output_items_response_id_fkey" FOREIGN KEY ("response_id") REFERENCES "responses" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "response_output_items_by_item" ON "response_output_items" ("item_id")`);
    await queryRunner.query(`
      INSERT INTO "response_output_items" ("response_id", "position", "item_id", "item")
      SELECT r.id, (o.ordinality - 1)::integer, coalesce(o.value ->> 'id', ''), o.value
      FROM "responses" r, jsonb_array_elements(coalesce(r.response -> 'output', '[]'::jsonb)) WITH ORDINALITY AS o(value, ordinality)`);
    await queryRunner.query(`UPDATE "responses" SET "response" = "response" - 'output' WHERE "response" ? 'output'`);
    await queryRunner.query(`DROP INDEX "responses_output_items"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "responses_output_items" ON "responses" USING gin (("response" -> 'output') jsonb_path_ops)`);
    await queryRunner.query(`
      UPDATE "responses" r SET "response" = r.response || jsonb_build_object('output',
        coalesce((SELECT jsonb_agg(o.item ORDER BY o.position) FROM "response_output_items" o WHERE o.response_id = r.id), '[]'::jsonb))`);
    await queryRunner.query(`DROP TABLE "response_output_items"`);
  }
}
