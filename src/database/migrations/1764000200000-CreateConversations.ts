import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateConversations1764000200000 implements MigrationInterface {
  name = 'CreateConversations1764000200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "conversations" (
        "id" text PRIMARY KEY,
        "owner" text NOT NULL,
        "metadata" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    // `seq` is the items' one order: an identity never collides, however many appends run at once.
    await queryRunner.query(`
      CREATE TABLE "conversation_items" (
        "conversation_id" text NOT NULL
          CONSTRAINT "conversation_items_conversation_id_fkey" REFERENCES "conversations" ("id") ON DELETE CASCADE,
        "seq" bigint GENERATED ALWAYS AS IDENTITY,
        "item_id" text NOT NULL,
        "item" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("conversation_id", "seq")
      )`);
    // Unique: an item id names one item of a conversation (retrieval, deletion and the `after` cursor).
    await queryRunner.query(`CREATE UNIQUE INDEX "conversation_items_item_id" ON "conversation_items" ("conversation_id", "item_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "conversation_items"`);
    await queryRunner.query(`DROP TABLE "conversations"`);
  }
}
