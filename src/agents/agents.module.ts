import { Module } from '@nestjs/common';
import { AgentRunner } from './agent-runner';
import { Compactor } from './compactor';
import { InferenceModule } from '../inference/inference.module';
import { SchemaValidator } from './schema-validator';

@Module({ imports: [InferenceModule], providers: [AgentRunner, SchemaValidator, Compactor], exports: [AgentRunner, SchemaValidator, Compactor] })
export class AgentsModule {}
