import OpenAI from 'openai';
import { useE2e } from '../support/e2e';
import { backgroundModes } from '../support/modes';
import { waitFor } from '../support/wait';

const MODEL = 'upstream-model';
type Schema = Record<string, unknown>;
const strict = (schema: Schema, name = 'result') => ({ format: { type: 'json_schema' as const, name, schema, strict: true } });

/** Strict structured outputs (text.format json_schema): validated per tenant, safely, and at create time. */
describe.each(backgroundModes('structured outputs'))('structured outputs, $name', (mode) => {
  const e2e = useE2e({ backend: mode, env: (upstream) => ({ INFERENCE_BASE_URL: upstream.url, API_KEYS: 'keyA:tenantA,keyB:tenantB' }), resetUpstream: true });
  let tenantA: OpenAI;
  let tenantB: OpenAI;
  beforeAll(() => {
    tenantA = e2e.as('keyA');
    tenantB = e2e.as('keyB');
  });

  it('a catastrophic-backtracking pattern neither stalls the process nor delays /health/live', async () => {
    e2e.upstream.enqueue({ text: JSON.stringify('a'.repeat(28) + '!') });
    let worst = 0;
    let done = false;
    const started = performance.now();
    const created = tenantA.responses.create({ model: MODEL, input: 'x', text: strict({ type: 'string', pattern: '^(a+)+$' }) }).catch((e: unknown) => e);
    const poller = (async () => {
      while (!done) {
        const t = performance.now();
        expect((await fetch(`${e2e.url}/health/live`)).status).toBe(200);
        worst = Math.max(worst, performance.now() - t);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const error = await created;
    const took = performance.now() - started;
    done = true;
    await poller;
    expect(error).toMatchObject({ status: 502, message: expect.stringContaining('must match pattern "^(a+)+$"') });
    expect({ took: took < 2000, worst: worst < 1000 }).toEqual({ took: true, worst: true });
  });

  it("one tenant's `$id` is invisible to another: no `$ref` reaches it, no error tells its rules", async () => {
    const secret = { $id: 'https://tenant-a.example/rules', type: 'string', pattern: '^tenant-a-secret-[0-9]+$' };
    e2e.upstream.enqueue({ text: '"tenant-a-secret-42"' });
    const ok = await tenantA.responses.create({ model: MODEL, input: 'x', text: strict(secret) });
    expect(JSON.parse(ok.output_text)).toBe('tenant-a-secret-42');
    e2e.upstream.setDefault({ text: '"guess"' });
    const error = await tenantB.responses
      .create({ model: MODEL, input: 'x', text: strict({ $ref: 'https://tenant-a.example/rules' }) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 400,
      param: 'text.format.schema',
      code: 'invalid_json_schema',
      message: expect.stringContaining("can't resolve reference https://tenant-a.example/rules"),
    });
    expect((error as Error).message).not.toContain('tenant-a-secret');
    expect(e2e.upstream.requests).toHaveLength(1); // tenant B's request never reached the model
  });

  it.each([
    [
      '2020-12 (LangChain 1.x, zod 4)',
      {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: { city: { type: 'string' }, tags: { type: 'array', prefixItems: [{ type: 'string' }], items: false } },
        required: ['city', 'tags'],
        additionalProperties: false,
      },
    ],
    [
      '2019-09',
      {
        $schema: 'https://json-schema.org/draft/2019-09/schema',
        type: 'object',
        $defs: { city: { type: 'string' } },
        properties: { city: { $ref: '#/$defs/city' }, tags: { type: 'array' } },
        unevaluatedProperties: false,
      },
    ],
    [
      'draft-07 (zod-to-json-schema)',
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        definitions: { city: { type: 'string' } },
        properties: { city: { $ref: '#/definitions/city' }, tags: { type: 'array', items: [{ type: 'string' }] } },
        additionalProperties: false,
      },
    ],
  ])('accepts a %s schema end to end, and still checks the output against it', async (_dialect, schema) => {
    e2e.upstream.enqueue({ text: '{"city":"Paris","tags":["x"]}' }, { text: '{"city":"Paris","tags":["x"],"extra":1}' });
    const r = await tenantA.responses.create({ model: MODEL, input: 'x', text: strict(schema) });
    expect(JSON.parse(r.output_text)).toEqual({ city: 'Paris', tags: ['x'] });
    const error = await tenantA.responses.create({ model: MODEL, input: 'x', text: strict(schema) }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 502,
      message: expect.stringMatching(/does not match the strict json_schema format 'result': \(root\) must NOT have (additional|unevaluated) properties/),
    });
  });

  const listIds = async (client: OpenAI) => {
    const res = await fetch(`${e2e.url}/v1/responses?limit=100`, { headers: { authorization: `Bearer ${client.apiKey}` } });
    return ((await res.json()) as { data: Array<{ id: string }> }).data.map((r) => r.id);
  };

  it.each([
    ['a self-reference', { $ref: '#' }, /refers to itself without end/],
    ['a `$ref` cycle', { $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' }, /refers to itself without end/],
    ['a lookahead pattern', { type: 'string', pattern: '^(?=a)a+$' }, /a pattern is not supported .*linear-time engine/],
    ['a misspelt type', { type: 'strnig' }, /not a valid JSON Schema: \/type must be equal to one of the allowed values/],
    ['an unknown dialect', { $schema: 'https://example.test/my-dialect' }, /'\$schema' "https:\/\/example.test\/my-dialect" is not supported/],
    ['a remote reference', { $ref: 'http://127.0.0.1:1/schema.json' }, /can't resolve reference/],
    ['a schema nested too deep', JSON.parse('{"items":'.repeat(80) + '{}' + '}'.repeat(80)) as Schema, /nested 81 levels deep; at most 64/],
    ['a schema too large', { enum: Array.from({ length: 10_000 }, (_, i) => `value-${i}`) }, /bytes long; at most 65536/],
  ])('refuses %s with a 400 naming text.format.schema, before anything is stored: inline, streamed and in background', async (_what, schema, reason) => {
    const before = await listIds(tenantB);
    const variants = [{}, { stream: true }, { background: true }, { background: true, stream: true }];
    for (const variant of variants) {
      const res = await fetch(`${e2e.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: 'Bearer keyB', 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, input: 'x', text: strict(schema), ...variant }),
      });
      expect({ variant, status: res.status }).toEqual({ variant, status: 400 });
      const { error } = (await res.json()) as { error: { message: string; type: string; param: string; code: string } };
      expect(error).toMatchObject({ type: 'invalid_request_error', param: 'text.format.schema', code: 'invalid_json_schema' });
      expect(error.message).toMatch(reason);
    }
    expect(e2e.upstream.requests).toHaveLength(0);
    expect(await listIds(tenantB)).toEqual(before);
  });

  it("a non-strict schema is the upstream's business: not compiled, passed on as it is", async () => {
    e2e.upstream.enqueue({ text: '"whatever"' });
    const r = await tenantA.responses.create({
      model: MODEL,
      input: 'x',
      text: { format: { type: 'json_schema', name: 'loose', schema: { $ref: '#' }, strict: false } },
    });
    expect(r.status).toBe('completed');
  });

  it('a background response with a valid strict schema is checked by the worker', async () => {
    e2e.upstream.enqueue({ text: '{"answer":"x"}' });
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { answer: { type: 'number' } },
      required: ['answer'],
    };
    const queued = await tenantA.responses.create({ model: MODEL, input: 'x', background: true, text: strict(schema) });
    const done = await waitFor(
      () => tenantA.responses.retrieve(queued.id),
      (r) => r.status !== 'queued' && r.status !== 'in_progress',
    );
    expect(done).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('/answer must be number') } });
  });
});
