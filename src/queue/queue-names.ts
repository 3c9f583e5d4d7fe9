/** Every queue of the application, by name (Bull keys are `<QUEUE_PREFIX>:<name>:…`). */
export enum QueueName {
  /** Background responses: job id = response id, payload the id only (Postgres holds the rest). */
  Responses = 'responses',
  /** Webhook delivery attempts: job id = `<delivery id>:<attempts>`. */
  Webhooks = 'webhooks',
  /** Vector store file ingestion: job id = `<vector store id>.<file id>`, payload both ids (Postgres holds the state). */
  Ingestion = 'ingestion',
}
