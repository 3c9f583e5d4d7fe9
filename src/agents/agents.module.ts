import { Module } from '@nestjs/common';
import { AgentRunner } from './agent-runner';

@Module({ providers: [AgentRunner], exports: [AgentRunner] })
export class AgentsModule {}
