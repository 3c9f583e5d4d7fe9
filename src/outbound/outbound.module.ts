import { Global, Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GuardedHttp } from './guarded-http';
import { HostResolver, UrlGuard } from './url-guard';

/**
 * Every connection the server makes for a tenant goes through one of these, each with its
 * purpose's policy: webhook deliveries, MCP servers, the pages web_search opens.
 */
@Injectable()
export class Outbound implements OnModuleDestroy {
  readonly webhooks: UrlGuard;
  readonly mcp: GuardedHttp;
  /** Pages the `web_search` tool opens: URLs the model (or a search result) chose. */
  readonly web: GuardedHttp;

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
    this.web = new GuardedHttp(
      new UrlGuard(
        { allowHttp: config.webPageAllowHttp, allowedHosts: config.webPageAllowedHosts, allowedHostsVariable: 'WEB_PAGE_ALLOWED_HOSTS', revealResolved: false },
        resolver,
      ),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.mcp.close(), this.web.close()]);
  }
}

@Global()
@Module({ providers: [HostResolver, Outbound], exports: [HostResolver, Outbound] })
export class OutboundModule {}
