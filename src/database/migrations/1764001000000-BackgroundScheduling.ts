import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Background scheduling (docs/background.md#scheduling): a queued response's place is decided in
 * Postgres, not by the order of Bull's jobs. `sched_class` (0 `soonest`, 1 a completion window)
 * and `sched_tag` (the owner's fair-queuing tag) order the claims; `start_by` and `window_end`
 * bound a windowed response's wait; `run_token` names the job that runs the row, so a job whose
 * worker died resumes what it ran.
 */
export class BackgroundScheduling1764001000000 implements MigrationInterface {
  name = 'BackgroundScheduling1764001000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "responses" ADD "sched_class" smallint NOT NULL DEFAULT 0, ADD "sched_tag" double precision NOT NULL DEFAULT 0, ADD "run_token" text, ADD "start_by" timestamptz, ADD "window_end" timestamptz`,
    );
    // The claim reads the head of this index; the tag of a new row reads the owner's tail.
    await queryRunner.query(
      `CREATE INDEX "responses_queue" ON "responses" ("sched_class", "sched_tag", "created_at", "seq") WHERE status = 'queued' AND background`,
    );
    await queryRunner.query(`CREATE INDEX "responses_queue_owner" ON "responses" ("owner", "sched_class", "sched_tag") WHERE status = 'queued' AND background`);
    await queryRunner.query(`CREATE INDEX "responses_run_token" ON "responses" ("run_token") WHERE status = 'in_progress'`);
    // The reconciler's sweeps: windowed responses due to start, and those past their window.
    await queryRunner.query(
      `CREATE INDEX "responses_windows" ON "responses" ("start_by", "window_end") WHERE status = 'queued' AND background AND window_end IS NOT NULL`,
    );
    // The pace of background work (a queued response's estimated start): recent completions.
    await queryRunner.query(`CREATE INDEX "responses_background_completed" ON "responses" ("completed_at") WHERE background AND completed_at IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "responses_background_completed"`);
    await queryRunner.query(`DROP INDEX "responses_windows"`);
    await queryRunner.query(`DROP INDEX "responses_run_token"`);
    await queryRunner.query(`DROP INDEX "responses_queue_owner"`);
    await queryRunner.query(`DROP INDEX "responses_queue"`);
    await queryRunner.query(
      `ALTER TABLE "responses" DROP COLUMN "window_end", DROP COLUMN "start_by", DROP COLUMN "run_token", DROP COLUMN "sched_tag", DROP COLUMN "sched_class"`,
    );
  }
}
