import { type INestApplicationContext, Logger, type LogLevel as NestLogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { randomBytes } from 'node:crypto';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import type { LogLevel } from './config/environment';

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** A worker (ROLE=worker): the same modules in an application context, without an HTTP server. */
export async function createWorker(env: Record<string, string | undefined> = process.env): Promise<INestApplicationContext> {
  const level = (env.LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(env), { logger: NEST_LEVELS[level] ?? NEST_LEVELS.info, abortOnError: false });
  app.enableShutdownHooks();
  return app;
}

/** Builds the HTTP application (not listening yet): Fastify, Swagger at /docs, OpenAPI at /openapi.json. */
export async function createApp(env: Record<string, string | undefined> = process.env): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    // Request ids that clients see as `x-request-id` (the SDK's `err.requestID`).
    genReqId: () => `req_${randomBytes(12).toString('hex')}`,
    bodyLimit: Number(env.BODY_LIMIT_BYTES) || 10 * 1024 * 1024,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  const level = (env.LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, {
    logger: NEST_LEVELS[level] ?? NEST_LEVELS.info,
    abortOnError: false,
  });
  app.enableShutdownHooks();
  setupOpenApi(app);
  return app;
}

/** The OpenAPI document, generated from the controllers and DTOs (`npm run openapi` commits it). */
export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('responses-gateway')
      .setDescription(
        'An OpenAI-compatible Responses API (`/v1/responses`) in front of any Chat Completions backend. ' +
          'Use the built-in `echo` model to try it without an upstream.',
      )
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key (any value when the server runs without API_KEYS).' })
      .build(),
    { operationIdFactory: (_controller, method) => method },
  );
}

export function setupOpenApi(app: NestFastifyApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', swaggerOptions: { persistAuthorization: true } });
}

/** Starts listening where the configuration says; returns the address. */
export async function listen(app: NestFastifyApplication): Promise<string> {
  const config = app.get(AppConfig);
  await app.listen(config.port, config.host);
  const address = await app.getUrl();
  Logger.log(`Listening on ${address} (docs at ${address}/docs)`, 'Bootstrap');
  if (!config.apiKeys) Logger.warn('No API_KEYS set: every request is accepted as the anonymous tenant.', 'Bootstrap');
  return address;
}
