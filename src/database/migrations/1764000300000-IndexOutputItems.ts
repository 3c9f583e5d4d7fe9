import { MigrationInterface, QueryRunner } from 'typeorm';

/** Lookups of stored items by id, for `item_reference` inputs. */
export class IndexOutputItems1764000300000 implements MigrationInterface {
  name = 'IndexOutputItems1764000300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "response_input_items_by_item" ON "response_input_items" ("item_id")`);
    await queryRunner.query(`CREATE INDEX "responses_output_items" ON "responses" USING gin (("response" -> 'output') jsonb_path_ops)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "responses_output_items"`);
    await queryRunner.query(`DROP INDEX "response_input_items_by_item"`);
  }
}
