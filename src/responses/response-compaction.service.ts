import { Injectable } from '@nestjs/common';
import type { CompactedResponse, ResponseOutputItem } from 'openai/resources/responses/responses';
import { Compactor } from '../agents/compactor';
import { retainedBudget } from '../agents/compaction';
import { NO_USAGE } from '../agents/usage';
import { newId, unixSeconds } from '../common/ids';
import type { Principal } from '../common/principal';
import { UpstreamError } from '../inference/upstream-error';
import type { CompactResponseDto } from './dto/compact-response.dto';
import type { CreateResponseDto } from './dto/create-response.dto';
import { ResponseCreation, upstreamFailure } from './response-creation.service';

/**
 * `POST /v1/responses/compact`: the window (history of `previous_response_id`, then `input`) is
 * checked like a create's, summarized by the model, and answered as the new window. Nothing is stored.
 */
@Injectable()
export class ResponseCompaction {
  constructor(
    private readonly creation: ResponseCreation,
    private readonly compactor: Compactor,
  ) {}

  async compact(principal: Principal, dto: CompactResponseDto, signal: AbortSignal = new AbortController().signal): Promise<CompactedResponse> {
    // The same checks as a create (model, items, references, sealed reasoning and compactions, the chain).
    const create = {
      model: dto.model,
      input: dto.input ?? [],
      previous_response_id: dto.previous_response_id,
      instructions: dto.instructions,
      prompt_cache_key: dto.prompt_cache_key,
      store: false,
    } as CreateResponseDto;
    this.creation.requireSealing('input');
    const prepared = await this.creation.prepare(principal, create);
    const createdAt = new Date();
    try {
      const compacted = await this.compactor.compact({
        model: prepared.model,
        instructions: prepared.request.instructions,
        items: [...prepared.history, ...prepared.input],
        tenant: principal.owner,
        retainedTokens: retainedBudget(prepared.model.contextWindow),
        signal,
        affinityKey: prepared.request.prompt_cache_key,
      });
      return {
        id: newId('resp'),
        object: 'response.compaction',
        created_at: unixSeconds(createdAt),
        // OpenAI's window: the user messages it keeps, then the compaction item.
        output: [...compacted.retained, compacted.item] as ResponseOutputItem[],
        usage: compacted.usage ?? NO_USAGE,
      };
    } catch (error) {
      throw error instanceof UpstreamError ? upstreamFailure(error) : error;
    }
  }
}
