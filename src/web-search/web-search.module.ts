import { Module } from '@nestjs/common';
import { WebSearch } from './web-search.service';

/** The `web_search` tool's provider and page reader (the tool itself runs in the agent loop: agents/web-search-tool.ts). */
@Module({ providers: [WebSearch], exports: [WebSearch] })
export class WebSearchModule {}
