import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';
import { parseEnvironment } from './environment';

@Global()
@Module({})
export class ConfigModule {
  /** Validates `env` (the process environment by default) once, and provides it as AppConfig. */
  static forRoot(env: Record<string, string | undefined> = process.env): DynamicModule {
    const config = new AppConfig(parseEnvironment(env), env);
    return { module: ConfigModule, providers: [{ provide: AppConfig, useValue: config }], exports: [AppConfig] };
  }
}
