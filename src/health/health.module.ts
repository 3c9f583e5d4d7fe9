import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { InferenceModule } from '../inference/inference.module';
import { HealthController } from './health.controller';
import { RedisHealth } from './redis.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'pretty' }), InferenceModule],
  controllers: [HealthController],
  providers: [RedisHealth],
})
export class HealthModule {}
