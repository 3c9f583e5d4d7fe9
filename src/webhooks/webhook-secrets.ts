import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { SealContext, SecretBox } from '../common/secrets';
import { AppConfig } from '../config/app-config';

const PREFIX = 'whsec_';

/** A new endpoint secret: `whsec_` and the base64 of 32 random bytes (what Standard Webhooks and the `openai` SDK decode). */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** One `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret, space-separated (receivers accept any match). */
export function signatureHeader(webhookId: string, timestamp: Date, body: string, secrets: string[]): string {
  return secrets.map((secret) => new Webhook(secret).sign(webhookId, timestamp, body)).join(' ');
}

/**
 * Endpoint secrets at rest. They must be readable to sign, so they cannot be hashed: with
 * SECRETS_KEY they are sealed (AES-256-GCM, `v1.…`); without it they are stored as they are
 * (`whsec_…`), and the server says so once at start. Both forms are read, so setting SECRETS_KEY
 * later seals every secret created or rotated from then on.
 */
@Injectable()
export class WebhookSecrets {
  private readonly box?: SecretBox;
  private warned = false;

  constructor(config: AppConfig) {
    this.box = config.secretBox;
  }

  /** Sealed for this endpoint alone: copied onto another endpoint's row, it does not open. */
  private static context(endpointId: string): SealContext {
    return { purpose: 'webhook-secret', id: endpointId };
  }

  seal(secret: string, endpointId: string): string {
    if (this.box) return this.box.seal(secret, WebhookSecrets.context(endpointId));
    if (!this.warned) {
      this.warned = true;
      new Logger('Webhooks').warn('SECRETS_KEY is not set: webhook endpoint secrets are stored unencrypted in the database.');
    }
    return secret;
  }

  open(stored: string, endpointId: string): string {
    if (stored.startsWith(PREFIX)) return stored;
    if (!this.box) throw new Error('This webhook secret is sealed, and SECRETS_KEY is not set: it cannot be read.');
    return this.box.open(stored, WebhookSecrets.context(endpointId));
  }
}
