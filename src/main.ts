import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp, createWorker, listen } from './bootstrap';
import { loadConfig } from './config/app-config';
import { EnvironmentError } from './config/environment';

/** One image, three roles: `all` (HTTP and jobs), `api` (HTTP only), `worker` (jobs only). */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.role === 'worker') {
    await createWorker(config);
    Logger.log('Worker started (ROLE=worker): running background responses', 'Bootstrap');
    return;
  }
  await listen(await createApp(config));
}

main().catch((error: unknown) => {
  // A configuration mistake is the operator's to fix: say what, without a stack trace.
  const configProblem = error instanceof EnvironmentError || (error instanceof Error && error.message.startsWith('MODELS_CONFIG'));
  const detail = error instanceof Error ? (configProblem ? error.message : (error.stack ?? error.message)) : String(error);
  Logger.error(detail, 'Bootstrap');
  process.exit(1);
});
