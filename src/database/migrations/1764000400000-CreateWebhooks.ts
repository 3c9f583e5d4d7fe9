import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks: endpoints, the event outbox, deliveries and their attempts, and the trigger that
 * records an event in the same statement as a background response's terminal status change.
 */
export class CreateWebhooks1764000400000 implements MigrationInterface {
  name = 'CreateWebhooks1764000400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "webhook_endpoints" (
        "id" text PRIMARY KEY,
        "owner" text NOT NULL,
        "url" text NOT NULL,
        "event_types" text[] NOT NULL,
        "enabled" boolean NOT NULL DEFAULT true,
        "disabled_reason" text NULL,
        "secret" text NOT NULL,
        "previous_secret" text NULL,
        "previous_secret_expires_at" timestamptz NULL,
        "failing_since" timestamptz NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX "webhook_endpoints_owner" ON "webhook_endpoints" ("owner", "created_at")`);
    await queryRunner.query(`
      CREATE TABLE "webhook_events" (
        "id" text PRIMARY KEY,
        "owner" text NOT NULL,
        "type" text NOT NULL,
        "response_id" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX "webhook_events_created_at" ON "webhook_events" ("created_at")`);
    await queryRunner.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" text PRIMARY KEY,
        "event_id" text NOT NULL
          CONSTRAINT "webhook_deliveries_event_id_fkey" REFERENCES "webhook_events" ("id") ON DELETE CASCADE,
        "endpoint_id" text NOT NULL
          CONSTRAINT "webhook_deliveries_endpoint_id_fkey" REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE,
        "state" text NOT NULL DEFAULT 'pending' CHECK ("state" IN ('pending', 'succeeded', 'failed')),
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "leased_until" timestamptz NULL,
        "last_status_code" integer NULL,
        "last_error" text NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    // The relay reads only pending deliveries; a partial index keeps that cheap at any table size.
    await queryRunner.query(`CREATE INDEX "webhook_deliveries_due" ON "webhook_deliveries" ("next_attempt_at") WHERE "state" = 'pending'`);
    await queryRunner.query(`CREATE INDEX "webhook_deliveries_endpoint" ON "webhook_deliveries" ("endpoint_id", "created_at")`);
    await queryRunner.query(`CREATE INDEX "webhook_deliveries_event" ON "webhook_deliveries" ("event_id")`);
    await queryRunner.query(`
      CREATE TABLE "webhook_attempts" (
        "delivery_id" text NOT NULL
          CONSTRAINT "webhook_attempts_delivery_id_fkey" REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE,
        "attempt" integer NOT NULL,
        "started_at" timestamptz NOT NULL,
        "duration_ms" integer NOT NULL,
        "status_code" integer NULL,
        "error" text NULL,
        "response_excerpt" text NULL,
        PRIMARY KEY ("delivery_id", "attempt")
      )`);
    // The outbox: whatever path ends a background response (its worker, a cancel, the reconciler),
    // the event and one delivery per subscribed endpoint are written by the same statement, so a
    // terminal status is never without its event, nor an event without its status.
    // No subscriber, no event: tenants without webhooks leave no rows behind.
    await queryRunner.query(`
      CREATE FUNCTION "webhook_emit_response_event"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        event_type text := 'response.' || NEW.status;
        event_id text;
      BEGIN
        IF NOT EXISTS (
          SELECT 1 FROM webhook_endpoints WHERE owner = NEW.owner AND enabled AND event_type = ANY (event_types)
        ) THEN
          RETURN NULL;
        END IF;
        event_id := 'evt_' || replace(gen_random_uuid()::text, '-', '');
        INSERT INTO webhook_events (id, owner, type, response_id, created_at)
        VALUES (event_id, NEW.owner, event_type, NEW.id, now());
        INSERT INTO webhook_deliveries (id, event_id, endpoint_id)
        SELECT 'wh_' || replace(gen_random_uuid()::text, '-', ''), event_id, e.id
        FROM webhook_endpoints e
        WHERE e.owner = NEW.owner AND e.enabled AND event_type = ANY (e.event_types);
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "responses_webhook_events"
      AFTER UPDATE OF "status" ON "responses"
      FOR EACH ROW
      WHEN (NEW.background AND NEW.status IN ('completed', 'failed', 'cancelled', 'incomplete') AND OLD.status IS DISTINCT FROM NEW.status)
      EXECUTE FUNCTION "webhook_emit_response_event"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "responses_webhook_events" ON "responses"`);
    await queryRunner.query(`DROP FUNCTION "webhook_emit_response_event"()`);
    await queryRunner.query(`DROP TABLE "webhook_attempts"`);
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "webhook_events"`);
    await queryRunner.query(`DROP TABLE "webhook_endpoints"`);
  }
}
