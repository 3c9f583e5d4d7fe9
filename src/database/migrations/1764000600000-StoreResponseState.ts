import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The row keeps the run's state, not the Response document: `responses.response` repeated every
 * echoed request field, status, model and timestamps (kept in step with `jsonb_set`). Now the
 * store builds the Response on read from `request` + the state columns + the output rows. Also
 * drops `conversation_id`, never written.
 */
export class StoreResponseState1764000600000 implements MigrationInterface {
  name = 'StoreResponseState1764000600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "responses" ADD "usage" jsonb, ADD "error" jsonb, ADD "incomplete_details" jsonb`);
    // A JSON null in the document is SQL NULL in the column.
    await queryRunner.query(`
      UPDATE "responses" SET
        "usage" = nullif("response" -> 'usage', 'null'::jsonb),
        "error" = nullif("response" -> 'error', 'null'::jsonb),
        "incomplete_details" = nullif("response" -> 'incomplete_details', 'null'::jsonb)`);
    await queryRunner.query(`ALTER TABLE "responses" DROP COLUMN "response", DROP COLUMN "conversation_id"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Lossy: the echoed request fields are not rebuilt in SQL; the state and identity are.
    await queryRunner.query(`ALTER TABLE "responses" ADD "response" jsonb, ADD "conversation_id" text`);
    await queryRunner.query(`
      UPDATE "responses" SET "response" = jsonb_build_object('id', "id", 'object', 'response', 'status', "status", 'model', "model",
        'background', "background", 'previous_response_id', "previous_response_id", 'created_at', extract(epoch FROM "created_at")::bigint,
        'usage', "usage", 'error', "error", 'incomplete_details', "incomplete_details")`);
    await queryRunner.query(`ALTER TABLE "responses" ALTER COLUMN "response" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "responses" DROP COLUMN "usage", DROP COLUMN "error", DROP COLUMN "incomplete_details"`);
  }
}
