import { Module } from '@nestjs/common';
import { AgentRunner } from './agent-runner';
import { SchemaValidator } from './schema-validator';

@Module({ providers: [AgentRunner, SchemaValidator], exports: [AgentRunner, SchemaValidator] })
export class AgentsModule {}
