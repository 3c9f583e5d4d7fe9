import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import OpenAI from 'openai';
import { createApp } from '../../src/bootstrap';
import { captureConformance, type ConformanceLog } from './conformance/capture';

export interface TestApp {
  app: NestFastifyApplication;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The official client, pointed at the app, without retries (tests see every answer). */
  client: OpenAI;
  /** Every /v1/* answer, validated against the Responses API (assert it after `close()`). */
  conformance: ConformanceLog;
  close(): Promise<void>;
}

/** The real application, in process, on an ephemeral loopback port. */
export async function startApp(env: Record<string, string>): Promise<TestApp> {
  // A short shutdown grace: a test's leftover runs must not hold its teardown for 30 s.
  const app = await createApp({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal', SHUTDOWN_GRACE_MS: '200', ...env });
  const conformance = captureConformance(app.getHttpServer());
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  const url = `http://127.0.0.1:${address.port}`;
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: env.TEST_API_KEY ?? 'test-key', maxRetries: 0, timeout: 20_000 });
  return { app, url, client, conformance, close: () => app.close() };
}
