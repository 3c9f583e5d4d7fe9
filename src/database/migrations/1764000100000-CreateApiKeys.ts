import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApiKeys1764000100000 implements MigrationInterface {
  name = 'CreateApiKeys1764000100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "api_keys" (
        "id" text PRIMARY KEY,
        "owner" text NOT NULL,
        "name" text NOT NULL,
        "digest" text NOT NULL UNIQUE,
        "prefix" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "revoked_at" timestamptz NULL
      )`);
    await queryRunner.query(`CREATE INDEX "api_keys_owner" ON "api_keys" ("owner")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}
