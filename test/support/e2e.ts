import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import OpenAI from 'openai';
import { startApp, TestApp } from './app';
import { summarize } from './conformance/capture';
import { FakeUpstream, startFakeUpstream } from './fake-upstream';

/** Where an e2e suite stores and runs: a store backend (`backends.ts`) or a background mode (`modes.ts`). */
export interface E2eBackend {
  setup(): Promise<{ env: Record<string, string>; teardown(): Promise<void> }>;
}

export interface E2eOptions {
  /** Default: embedded in-memory PGlite, background runs inline. */
  backend?: E2eBackend;
  /**
   * The app's environment, on top of the backend's. A function is called in `beforeAll`, after the
   * fake upstream is listening and after the suite's earlier `beforeAll`s (for servers it starts itself).
   */
  env?: Record<string, string> | ((upstream: FakeUpstream) => Record<string, string> | Promise<Record<string, string>>);
  /** Start a fake upstream (default true). */
  upstream?: boolean;
  /** `upstream.reset()` before each test. */
  resetUpstream?: boolean;
}

/** The handles of a running suite; read them inside tests and hooks (they exist from `beforeAll` on). */
export interface E2e {
  readonly app: TestApp;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The official client, pointed at the app, without retries. */
  readonly client: OpenAI;
  readonly upstream: FakeUpstream;
  /** A client of the app with another API key (same settings as `client`). */
  as(apiKey: string): OpenAI;
}

/**
 * Starting the app is a first start on an empty database (PGlite runs initdb and every migration):
 * seconds alone, and over Jest's 30 s hook limit on a loaded CI machine. Tests keep the 30 s limit.
 */
const START_TIMEOUT_MS = 120_000;

const DEFAULT_BACKEND: E2eBackend = { setup: () => Promise.resolve({ env: { DATA_DIR: 'memory://' }, teardown: () => Promise.resolve() }) };

/**
 * The setup every e2e suite shares: a fake upstream, a backend, the app in process, torn down in
 * reverse. Registers `beforeAll`/`afterAll` (and `beforeEach` with `resetUpstream`) in the calling
 * `describe`; hooks the suite registers after this call see the handles.
 */
export function useE2e(options: E2eOptions = {}): E2e {
  let app: TestApp | undefined;
  let upstream: FakeUpstream | undefined;
  let teardown: (() => Promise<void>) | undefined;
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useE2e: ${what} is not there (used outside a test or hook, or its setup failed)`);
    return value;
  };

  beforeAll(async () => {
    if (options.upstream !== false) upstream = await startFakeUpstream();
    const backend = await (options.backend ?? DEFAULT_BACKEND).setup();
    teardown = backend.teardown;
    const env = typeof options.env === 'function' ? await options.env(ready(upstream, 'the fake upstream')) : (options.env ?? {});
    app = await startApp({ ...backend.env, ...env });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
    await teardown?.();
    if (!app) return;
    // CONFORMANCE_SUMMARY=<file>: one line per suite with what was validated.
    const summary = process.env.CONFORMANCE_SUMMARY;
    if (summary) appendFileSync(summary, `${basename(expect.getState().testPath ?? '?')}: ${summarize(app.conformance)}\n`);
    // Every object the suite made the app send must conform (test/support/conformance).
    app.conformance.assertConforms();
  }, START_TIMEOUT_MS);

  if (options.resetUpstream) beforeEach(() => ready(upstream, 'the fake upstream').reset());

  return {
    get app() {
      return ready(app, 'the app');
    },
    get url() {
      return ready(app, 'the app').url;
    },
    get client() {
      return ready(app, 'the app').client;
    },
    get upstream() {
      return ready(upstream, 'the fake upstream');
    },
    as: (apiKey) => new OpenAI({ baseURL: `${ready(app, 'the app').url}/v1`, apiKey, maxRetries: 0, timeout: 20_000 }),
  };
}
