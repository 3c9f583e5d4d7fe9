import OpenAI from 'openai';
import { backoffMs, eventBody } from './webhook-deliverer';
import { generateWebhookSecret, signatureHeader } from './webhook-secrets';

const sdk = new OpenAI({ apiKey: 'unused' });

describe('webhook signatures', () => {
  const body = eventBody({ id: 'evt_1', type: 'response.completed', responseId: 'resp_1', createdAt: new Date(1_764_000_000_000) });

  it('builds the event in OpenAI’s shape', () => {
    expect(JSON.parse(body)).toEqual({ id: 'evt_1', object: 'event', created_at: 1_764_000_000, type: 'response.completed', data: { id: 'resp_1' } });
  });

  it('signs so that the SDK’s webhooks.unwrap accepts it; with two secrets, either one', async () => {
    const [a, b, other] = [generateWebhookSecret(), generateWebhookSecret(), generateWebhookSecret()];
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const now = new Date();
    const headers = (secrets: string[]) => ({
      'webhook-id': 'wh_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatureHeader('wh_1', now, body, secrets),
    });
    await expect(sdk.webhooks.unwrap(body, headers([a]), a)).resolves.toMatchObject({ id: 'evt_1' });
    const both = headers([b, a]);
    expect(both['webhook-signature'].split(' ')).toHaveLength(2);
    await expect(sdk.webhooks.unwrap(body, both, a)).resolves.toBeDefined();
    await expect(sdk.webhooks.unwrap(body, both, b)).resolves.toBeDefined();
    await expect(sdk.webhooks.unwrap(body, both, other)).rejects.toThrow(/signature/);
    await expect(sdk.webhooks.unwrap(body.replace('resp_1', 'resp_2'), headers([a]), a)).rejects.toThrow(/signature/);
  });

  it('backs off exponentially with ±20 % jitter, up to the cap', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0.5)).toBe(1000);
    expect(backoffMs(2, 1000, 60_000, () => 0.5)).toBe(2000);
    expect(backoffMs(4, 1000, 60_000, () => 0)).toBe(6400);
    expect(backoffMs(4, 1000, 60_000, () => 1)).toBe(9600);
    expect(backoffMs(30, 1000, 60_000, () => 0.5)).toBe(60_000);
  });
});
