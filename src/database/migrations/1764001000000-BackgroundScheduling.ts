import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Background scheduling (docs/background.md#scheduling): a queued response's place is decided in
 * Postgres, not by the order of Bull's jobs. `sched_class` (0 `soonest`, 1 a completion window)
 * and `sched_tag` (the owner's fair-queuing tag) order the claims; `run_token` names the job that
 * runs the row, so a job whose worker died resumes what it ran.
 */
export class BackgroundScheduling1764001000000 implements MigrationInterface {
  name = 'BackgroundScheduling1764001000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "responses" ADD "sched_class" smallint NOT NULL DEFAULT 0, ADD "sched_tag" double precision NOT NULL DEFAULT 0, ADD "run_token" text`,
    );
    // The claim reads the head of this index; the tag of a new row reads the owner's tail.
    await queryRunner.query(`CREATE INDEX "responses_queue" ON "responses" ("sched_class", "sched_tag", "created_at") WHERE status = 'queued' AND background`);
    await queryRunner.query(`CREATE INDEX "responses_queue_owner" ON "responses" ("owner", "sched_class", "sched_tag") WHERE status = 'queued' AND background`);
    await queryRunner.query(`CREATE INDEX "responses_run_token" ON "responses" ("run_token") WHERE status = 'in_progress'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "responses_run_token"`);
    await queryRunner.query(`DROP INDEX "responses_queue_owner"`);
    await queryRunner.query(`DROP INDEX "responses_queue"`);
    await queryRunner.query(`ALTER TABLE "responses" DROP COLUMN "run_token", DROP COLUMN "sched_tag", DROP COLUMN "sched_class"`);
  }
}
