import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp, listen } from './bootstrap';
import { EnvironmentError } from './config/environment';

async function main(): Promise<void> {
  const app = await createApp();
  await listen(app);
}

main().catch((error: unknown) => {
  // A configuration mistake is the operator's to fix: say what, without a stack trace.
  const message = error instanceof EnvironmentError || (error instanceof Error && error.message.startsWith('MODELS_CONFIG')) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  Logger.error(message, 'Bootstrap');
  process.exit(1);
});
