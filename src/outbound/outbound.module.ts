import { Global, Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GuardedHttp } from './guarded-http';
import { HostResolver, UrlGuard } from './url-guard';

/**
 * Every connection the server makes for a tenant goes through one of these, each with its
 * purpose's policy: webhook deliveries, MCP servers (and later file and web fetches).
 */
@Injectable()
export class Outbound implements OnModuleDestroy {
  readonly webhooks: UrlGuard;
  readonly mcp: GuardedHttp;

  constructor(config: AppConfig, resolver: HostResolver) {
    this.webhooks = new UrlGuard(
      { allowHttp: config.webhookAllowHttp, allowedHosts: config.webhookAllowedHosts, allowedHostsVariable: 'WEBHOOK_ALLOWED_HOSTS' },
      resolver,
    );
    this.mcp = new GuardedHttp(
      new UrlGuard(
        { allowHttp: config.mcpAllowHttp, allowedHosts: config.mcpAllowedHosts, allowedHostsVariable: 'MCP_ALLOWED_HOSTS', revealResolved: false },
        resolver,
      ),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.mcp.close();
  }
}

@Global()
@Module({ providers: [HostResolver, Outbound], exports: [HostResolver, Outbound] })
export class OutboundModule {}
