import OpenAI from 'openai';
import { useE2e } from '../support/e2e';
import { backgroundModes } from '../support/modes';

// Inline and with Redis: rate-limit counters live in Redis when it is there.
describe.each(backgroundModes('limits'))('request limits, $name', (mode) => {
  const e2e = useE2e({
    backend: mode,
    env: (upstream) => ({
      INFERENCE_BASE_URL: upstream.url,
      API_KEYS: 'sk-busy:team-a,sk-calm:team-a,sk-bg:team-bg',
      RATE_LIMIT_PER_MINUTE: '5',
      BODY_LIMIT_BYTES: '4096',
      MAX_INPUT_ITEMS: '3',
      MAX_INPUT_CHARS: '1000',
      MAX_BACKGROUND_PER_TENANT: '2',
    }),
  });
  const as = (key: string) => e2e.as(key);

  it('answers 429 with retry-after once a key passes its per-minute limit; other keys are not affected', async () => {
    const busy = as('sk-busy');
    for (let i = 0; i < 5; i++) await busy.models.list();
    const limited = await busy.models.list().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' });
    const retryAfter = Number((limited as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    await expect(as('sk-calm').models.list()).resolves.toBeDefined();
  });

  it('refuses a body over BODY_LIMIT_BYTES with 413 in OpenAI shape', async () => {
    const res = await fetch(`${e2e.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-calm' },
      body: JSON.stringify({ model: 'm', input: 'x'.repeat(5000) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: { message: 'The request body is too large.', type: 'invalid_request_error', param: null, code: null } });
  });

  it('bounds input items and text, naming input', async () => {
    const calm = as('sk-calm');
    await expect(calm.responses.create({ model: 'm', input: ['a', 'b', 'c', 'd'].map((t) => ({ role: 'user' as const, content: t })) })).rejects.toMatchObject({
      status: 400,
      param: 'input',
      code: 'array_above_max_length',
    });
    await expect(calm.responses.create({ model: 'm', input: 'y'.repeat(900), instructions: 'z'.repeat(200) })).rejects.toMatchObject({
      status: 400,
      param: 'input',
      code: 'string_above_max_length',
    });
    expect(e2e.upstream.requests).toHaveLength(0);
  });

  it('limits unfinished background responses per tenant with 429, and frees the slot when one ends', async () => {
    const bg = as('sk-bg');
    e2e.upstream.setDefault({ hang: true });
    const first = await bg.responses.create({ model: 'm', input: '1', background: true });
    const secondId = (await bg.responses.create({ model: 'm', input: '2', background: true })).id;
    const third = await bg.responses.create({ model: 'm', input: '3', background: true }).catch((e: unknown) => e);
    expect(third).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect((third as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('5');
    await bg.responses.cancel(first.id);
    const fourth = await bg.responses.create({ model: 'm', input: '4', background: true });
    expect(fourth.status).toBe('queued');
    await Promise.all([secondId, fourth.id].map((id) => bg.responses.cancel(id).catch(() => undefined)));
  });
});
