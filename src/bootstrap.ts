import { type INestApplicationContext, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import multipart from '@fastify/multipart';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module';
import { AppConfig, type EnvironmentVariables, loadConfig } from './config/app-config';
import { Metrics } from './metrics/metrics';
import { EnvironmentError, isLoopback } from './config/environment';
import { createLogger, PinoNestLogger } from './common/logging';
import { newId } from './common/ids';
import { multipartLimits } from './files/files-http';

/**
 * The configuration to boot with: the one given (main loads it once), or one validated from the
 * environment given (tests and scripts), or from the process's.
 */
const configOf = (source?: AppConfig | EnvironmentVariables): AppConfig => (source instanceof AppConfig ? source : loadConfig(source));

/** A worker (ROLE=worker): the same modules in an application context, without an HTTP server. */
export async function createWorker(source?: AppConfig | EnvironmentVariables): Promise<INestApplicationContext> {
  const config = configOf(source);
  const logger = createLogger(config.logLevel, 'worker');
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: new PinoNestLogger(logger), abortOnError: false });
  app.enableShutdownHooks();
  return app;
}

/** Builds the HTTP application (not listening yet): Fastify, Swagger at /docs, OpenAPI at /openapi.json. */
export async function createApp(source?: AppConfig | EnvironmentVariables): Promise<NestFastifyApplication> {
  const config = configOf(source);
  const logger = createLogger(config.logLevel, config.role);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // Request ids that clients see as `x-request-id` (the SDK's `err.requestID`), in every log line.
    genReqId: () => newId('req'),
    bodyLimit: config.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Errors of Fastify's router (a malformed URL, a path parameter over 100 characters) are
    // answered before Nest sees the request: give them the OpenAI shape too.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode ?? 400;
      void reply.code(status).send({ error: { message: error.message, type: 'invalid_request_error', param: null, code: null } });
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  // multipart/form-data for file uploads, parsed as a stream by the handler (never buffered whole).
  await app.register(multipart, { limits: multipartLimits(config) });
  app.enableShutdownHooks();
  instrumentHttp(app);
  setupOpenApi(app);
  return app;
}

/** Latency of every HTTP request, labelled by route template (not URL: ids would explode the labels). */
function instrumentHttp(app: NestFastifyApplication): void {
  const metrics = app.get(Metrics);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });
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
  if (!config.authRequired && !isLoopback(config.host) && !config.allowUnauthenticatedPublic) {
    throw new EnvironmentError(
      `Refusing to listen on HOST=${config.host}: it is not a loopback address, and no authentication is configured. ` +
        'Set API_KEYS, AUTH_JWKS_URL or AUTH_REQUIRED=true (with keys from `npm run keys`), ' +
        'or ALLOW_UNAUTHENTICATED_PUBLIC=true if something in front of this server authenticates.',
    );
  }
  await app.listen(config.port, config.host);
  const address = await app.getUrl();
  Logger.log(`Listening on ${address} (docs at ${address}/docs)`, 'Bootstrap');
  if (!config.authRequired) {
    Logger.warn(
      `Authentication is off (no API_KEYS, AUTH_JWKS_URL or AUTH_REQUIRED): every request is the anonymous tenant. Listening on ${config.host} only.`,
      'Bootstrap',
    );
  }
  return address;
}
