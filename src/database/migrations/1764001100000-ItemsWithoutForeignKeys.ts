import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The item tables lose their foreign keys to `responses`: the key's check ran a query per item row
 * inserted (`node bench/postgres-statements.js`; docs/performance.md, second round). Every item row is written by a statement that writes or reads its response
 * row in the same statement, so no item can name a missing response; what the keys' ON DELETE
 * CASCADE did, a trigger does, run after the row is gone — with a snapshot of its own, so it also
 * removes items a concurrent update committed while the delete waited for the row.
 */
export class ItemsWithoutForeignKeys1764001100000 implements MigrationInterface {
  name = 'ItemsWithoutForeignKeys1764001100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "response_input_items" DROP CONSTRAINT "response_input_items_response_id_fkey"`);
    await queryRunner.query(`ALTER TABLE "response_output_items" DROP CONSTRAINT "response_output_items_response_id_fkey"`);
    await queryRunner.query(`
      CREATE FUNCTION "responses_delete_items"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM response_input_items WHERE response_id = OLD.id;
        DELETE FROM response_output_items WHERE response_id = OLD.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER "responses_delete_items" AFTER DELETE ON "responses"
      FOR EACH ROW EXECUTE FUNCTION "responses_delete_items"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "responses_delete_items" ON "responses"`);
    await queryRunner.query(`DROP FUNCTION "responses_delete_items"()`);
    await queryRunner.query(
      `ALTER TABLE "response_output_items" ADD CONSTRAINT "response_output_items_response_id_fkey" FOREIGN KEY ("response_id") REFERENCES "responses"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE "response_input_items" ADD CONSTRAINT "response_input_items_response_id_fkey" FOREIGN KEY ("response_id") REFERENCES "responses"("id") ON DELETE CASCADE`,
    );
  }
}
