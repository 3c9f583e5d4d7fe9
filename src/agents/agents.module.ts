import { Module } from '@nestjs/common';
import { AgentRunner } from './agent-runner';
import { Compactor } from './compactor';
import { SchemaValidator } from './schema-validator';

@Module({ providers: [AgentRunner, SchemaValidator, Compactor], exports: [AgentRunner, SchemaValidator, Compactor] })
export class AgentsModule {}
