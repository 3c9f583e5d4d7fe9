/** Every queue of the application, by name (Bull keys are `<QUEUE_PREFIX>:<name>:…`). */
export enum QueueName {
  /** Background responses: job id = response id, payload the id only (Postgres holds the rest). */
  Responses = 'responses',
  /** Webhook delivery attempts: job id = `<delivery id>:<attempts>`. */
  Webhooks = 'webhooks',
}
