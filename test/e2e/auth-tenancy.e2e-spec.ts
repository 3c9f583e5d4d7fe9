import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import OpenAI from 'openai';
import { generateApiKey } from '../../src/auth/api-key-secrets';
import { newId } from '../../src/common/ids';
import { ApiKeysStore } from '../../src/auth/persistence/api-keys.store';
import { storeBackends } from '../support/backends';
import { useE2e } from '../support/e2e';
import { waitFor } from '../support/wait';
import { collect } from '../support/streams';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'responses-gateway';

/** An OIDC-style JWKS endpoint on loopback, and a signer for tokens it vouches for. */
async function startIdp() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  const sign = (claims: Record<string, unknown>, options: { expiresIn?: string | null; audience?: string; issuedAt?: string } = {}) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject('alice@example.com')
      .setIssuedAt(options.issuedAt);
    if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? '5m');
    return jwt.sign(privateKey);
  };
  return { url, sign, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe.each(storeBackends('auth and tenancy'))('authentication and tenant isolation on $name', (backend) => {
  let idp: Awaited<ReturnType<typeof startIdp>>;
  let alice: OpenAI; // team-a, bootstrap key
  let bob: OpenAI; // team-b, key created like the CLI does

  beforeAll(async () => {
    idp = await startIdp();
  });
  const e2e = useE2e({
    backend,
    env: (upstream) => ({
      INFERENCE_BASE_URL: upstream.url,
      API_KEYS: 'sk-alice:team-a',
      AUTH_JWKS_URL: idp.url,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    }),
  });
  afterAll(() => idp?.close());
  const as = (key: string) => e2e.as(key);

  beforeAll(async () => {
    e2e.upstream.setDefault({ text: 'ok' });
    const { secret, digest, prefix } = generateApiKey();
    await e2e.app.app.get(ApiKeysStore).create({ id: newId('key'), owner: 'team-b', name: 'bob', prefix, digest, createdAt: new Date(), revokedAt: null });
    alice = as('sk-alice');
    bob = as(secret);
  });

  it('answers 401 in OpenAI shape without a key, with a wrong key, and with a revoked key', async () => {
    const anonymous = await fetch(`${e2e.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"echo","input":"x"}',
    });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: expect.objectContaining({ type: 'invalid_request_error', code: 'missing_api_key', param: null }) });
    await expect(as('sk-wrong').responses.create({ model: 'echo', input: 'x' })).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    await expect(as('sk-wrong').models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const keys = e2e.app.app.get(ApiKeysStore);
    const { secret, digest, prefix } = generateApiKey();
    const id = newId('key');
    await keys.create({ id, owner: 'team-c', name: 'revoked', prefix, digest, createdAt: new Date(), revokedAt: null });
    expect(await keys.revoke(id)).toBe(true);
    await expect(as(secret).responses.create({ model: 'echo', input: 'x' })).rejects.toMatchObject({ status: 401 });
    // Health and metrics stay open for probes and scrapers.
    expect((await fetch(`${e2e.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${e2e.url}/metrics`)).status).toBe(200);
  });

  it("treats another tenant's response as missing on every path", async () => {
    const sync = await alice.responses.create({ model: 'm', input: 'alice private' });
    const background = await alice.responses.create({ model: 'm', input: 'alice bg', background: true, stream: false });
    const streamed = await alice.responses.create({ model: 'm', input: 'alice stream', background: true, stream: true });
    const streamedId = (await collect(streamed)).flatMap((e) => (e.type === 'response.created' ? [e.response.id] : [])).pop() ?? '';
    await waitFor(
      () => alice.responses.retrieve(background.id),
      (r) => r.status === 'completed',
    );
    const notFound = { status: 404, message: expect.stringContaining('not found') };
    for (const id of [sync.id, background.id, streamedId]) {
      await expect(bob.responses.retrieve(id)).rejects.toMatchObject(notFound);
      await expect(bob.responses.retrieve(id, { stream: true })).rejects.toMatchObject(notFound);
      await expect(bob.responses.cancel(id)).rejects.toMatchObject(notFound);
      await expect(bob.responses.delete(id)).rejects.toMatchObject(notFound);
      await expect(bob.responses.inputItems.list(id)).rejects.toMatchObject(notFound);
      await expect(bob.responses.create({ model: 'm', input: 'x', previous_response_id: id })).rejects.toMatchObject({
        status: 400,
        code: 'previous_response_not_found',
      });
      await expect(bob.responses.create({ model: 'm', input: 'x', previous_response_id: id, background: true })).rejects.toMatchObject({
        status: 400,
        code: 'previous_response_not_found',
      });
      // The same calls answer for the owner, and nothing was changed by the other tenant.
      expect((await alice.responses.retrieve(id)).id).toBe(id);
    }
    // The unknown-id answers are indistinguishable from another tenant's.
    await expect(bob.responses.retrieve('resp_does_not_exist')).rejects.toMatchObject(notFound);
    const bobsList = (await fetch(`${e2e.url}/v1/responses?limit=100`, { headers: { authorization: `Bearer ${bob.apiKey}` } }).then((r) => r.json())) as {
      data: Array<{ id: string }>;
    };
    expect(bobsList.data.map((r) => r.id)).not.toEqual(expect.arrayContaining([sync.id]));
    for (const id of [sync.id, background.id, streamedId]) expect(bobsList.data.map((r) => r.id)).not.toContain(id);
    const alicesList = (await fetch(`${e2e.url}/v1/responses?limit=100`, { headers: { authorization: 'Bearer sk-alice' } }).then((r) => r.json())) as {
      data: Array<{ id: string }>;
    };
    expect(alicesList.data.map((r) => r.id)).toEqual(expect.arrayContaining([sync.id, background.id, streamedId]));
    // Each tenant chains its own responses.
    const own = await bob.responses.create({ model: 'm', input: 'bob' });
    expect((await bob.responses.create({ model: 'm', input: 'again', previous_response_id: own.id })).previous_response_id).toBe(own.id);
  });

  it('runs background work as the tenant that created it', async () => {
    const queued = await bob.responses.create({ model: 'm', input: 'bob bg', background: true });
    const done = await waitFor(
      () => bob.responses.retrieve(queued.id),
      (r) => r.status === 'completed',
    );
    expect(done.output_text).toBe('ok');
    await expect(alice.responses.retrieve(queued.id)).rejects.toMatchObject({ status: 404 });
    const events = await collect(await bob.responses.create({ model: 'm', input: 'bob stream', background: true, stream: true }));
    expect(events[events.length - 1].type).toBe('response.completed');
  });

  it('accepts JWTs verified against the JWKS, with the tenant from the configured claim', async () => {
    const carol = as(await idp.sign({ tenant: 'team-jwt' }));
    const mine = await carol.responses.create({ model: 'm', input: 'carol' });
    expect((await carol.responses.retrieve(mine.id)).id).toBe(mine.id);
    await expect(alice.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404 });
    // Same tenant, another token: same rows.
    expect((await as(await idp.sign({ tenant: 'team-jwt' })).responses.retrieve(mine.id)).id).toBe(mine.id);
    await expect(as(await idp.sign({ tenant: 'team-jwt' }, { expiresIn: '-1m' })).models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    await expect(as(await idp.sign({ tenant: 'team-jwt' }, { audience: 'someone-else' })).models.list()).rejects.toMatchObject({ status: 401 });
    // No `exp`: a credential forever, refused. Issued longer ago than AUTH_JWT_MAX_AGE_SECONDS (a day): refused.
    await expect(as(await idp.sign({ tenant: 'team-jwt' }, { expiresIn: null })).models.list()).rejects.toMatchObject({
      status: 401,
      code: 'invalid_token',
      error: expect.objectContaining({ message: expect.stringContaining("no 'exp'") }),
    });
    await expect(as(await idp.sign({ tenant: 'team-jwt' }, { issuedAt: '-2d', expiresIn: '1h' })).models.list()).rejects.toMatchObject({
      status: 401,
      error: expect.objectContaining({ code: 'invalid_token', message: expect.stringContaining('older than this server accepts') }),
    });
    await expect(as(await idp.sign({ sub: 'no-tenant' })).models.list()).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining("'tenant' claim"),
    });
  });

  it('reports health and Prometheus metrics', async () => {
    const ready = (await fetch(`${e2e.url}/health/ready`).then((r) => r.json())) as { status: string; details: Record<string, { status: string }> };
    expect(ready.details.database.status).toBe('up');
    expect(ready.details.upstreams.status).toBe('up');
    const text = await fetch(`${e2e.url}/metrics`).then((r) => r.text());
    expect(text).toMatch(/rg_http_request_duration_seconds_count\{method="POST",route="\/v1\/responses",status="200"\} \d+/);
    expect(text).toMatch(/rg_http_request_duration_seconds_count\{method="GET",route="\/v1\/responses\/:id",status="404"\} \d+/);
    expect(text).toMatch(/rg_responses_total\{status="completed",background="true"\} \d+/);
    expect(text).toMatch(/rg_responses_total\{status="completed",background="false"\} \d+/);
    expect(text).toMatch(/rg_upstream_request_duration_seconds_count\{provider="default",outcome="completed"\} \d+/);
    expect(text).toMatch(/rg_background_job_duration_seconds_count\{outcome="completed"\} \d+/);
    expect(text).toContain('rg_queue_jobs{state="waiting"}');
    expect(text).toContain('rg_process_cpu_user_seconds_total');
  });
});
