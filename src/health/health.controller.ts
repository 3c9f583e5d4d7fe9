import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator';
import { AppConfig } from '../config/app-config';
import { ModelRegistry } from '../inference/model-registry';
import { RedisHealth } from './redis.health';

@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealth,
    private readonly indicators: HealthIndicatorService,
    private readonly models: ModelRegistry,
    private readonly config: AppConfig,
  ) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /**
   * Ready to serve: the database (and Redis, when configured) answer — else 503. Upstreams are
   * reported too, but an unreachable one only makes the status `degraded` (still 200): taking
   * this process out of rotation would not bring the model back.
   */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2000 }),
      ...(this.config.redisUrl ? [() => this.redis.ping('redis')] : []),
      () => this.upstreams(),
    ]);
  }

  private async upstreams() {
    const backends = this.models.upstreams();
    const results = await Promise.all(backends.map(async (b) => [b.name, (await b.reachable(2000)) ? 'reachable' : 'unreachable'] as const));
    const detail = Object.fromEntries(results);
    const check = this.indicators.check('upstreams');
    return results.every(([, state]) => state === 'reachable') ? check.up(detail) : check.degraded(detail);
  }
}
