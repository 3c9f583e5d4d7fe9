import { Module } from '@nestjs/common';
import { AgentRunner } from './agent-runner';
import { Compactor } from './compactor';
import { InferenceModule } from '../inference/inference.module';
import { SchemaValidator } from './schema-validator';
import { VectorStoresModule } from '../vector-stores/vector-stores.module';
import { WebSearchModule } from '../web-search/web-search.module';

@Module({
  imports: [InferenceModule, VectorStoresModule, WebSearchModule],
  providers: [AgentRunner, SchemaValidator, Compactor],
  exports: [AgentRunner, SchemaValidator, Compactor],
})
export class AgentsModule {}
