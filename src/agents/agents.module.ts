import { Module } from '@nestjs/common';
import { AgentRunner } from './agent-runner';
import { Compactor } from './compactor';
import { InferenceModule } from '../inference/inference.module';
import { SchemaValidator } from './schema-validator';
import { VectorStoresModule } from '../vector-stores/vector-stores.module';

@Module({
  imports: [InferenceModule, VectorStoresModule],
  providers: [AgentRunner, SchemaValidator, Compactor],
  exports: [AgentRunner, SchemaValidator, Compactor],
})
export class AgentsModule {}
