import { Injectable } from '@nestjs/common';
import { toChatRequest } from '../agents/chat-request';
import { retainedBudget } from '../agents/compaction';
import { Compactor } from '../agents/compactor';
import type { Principal } from '../common/principal';
import { ECHO_MODEL } from '../inference/echo-backend';
import { TokenCounter, type TokenCount } from '../inference/token-counter';
import { CreateResponseDto } from './dto/create-response.dto';
import type { InputTokensDto } from './dto/input-tokens.dto';
import { ResponseCreation, upstreamFailure } from './response-creation.service';
import { UpstreamError } from '../inference/upstream-error';

/** `POST /v1/responses/input_tokens`'s answer, and where its count comes from (the `x-token-count-source` header). */
export interface InputTokensResult {
  body: { object: 'response.input_tokens'; input_tokens: number };
  source: TokenCount['source'];
}

/**
 * Counts the input tokens of a create request without running it: the request is prepared
 * exactly as a create prepares it (validation, history of `previous_response_id` or
 * `conversation`, item references, encrypted reasoning, compaction items), turned into the Chat Completions request
 * a create would send, and that is counted. Nothing is stored and no model is called. Tools of
 * MCP servers are not counted: listing them would mean connecting to the servers.
 */
@Injectable()
export class InputTokens {
  constructor(
    private readonly creation: ResponseCreation,
    private readonly counter: TokenCounter,
    private readonly compactor: Compactor,
  ) {}

  async count(principal: Principal, dto: InputTokensDto, signal?: AbortSignal): Promise<InputTokensResult> {
    const prepared = await this.creation.prepare(principal, asCreate(dto));
    // Compaction items stand for what came before them, as in a run.
    let items;
    try {
      items = this.compactor.window([...prepared.history, ...prepared.input], principal.owner, retainedBudget(prepared.model.contextWindow));
    } catch (error) {
      // A stored compaction item that no longer opens: the 400 a create would give.
      throw error instanceof UpstreamError ? upstreamFailure(error) : error;
    }
    const params = toChatRequest(prepared.request, items, prepared.model);
    // A count that names no model (OpenAI allows it) is counted with no model's tokenizer: the estimate.
    const count = await this.counter.count(dto.model ? prepared.model : null, { messages: params.messages, tools: params.tools }, signal);
    return { body: { object: 'response.input_tokens', input_tokens: count.tokens }, source: count.source };
  }
}

/**
 * The create request the count stands for: only the fields that shape the prompt, picked one by
 * one (the validation pipe leaves unknown fields on the DTO: a `background` or `stream` sent here
 * must not count). `input` may be left out (a chain alone is counted); so may `model`: the
 * built-in echo model stands in, so that everything else is checked as a create checks it.
 */
function asCreate(dto: InputTokensDto): CreateResponseDto {
  return Object.assign(new CreateResponseDto(), {
    model: dto.model ?? ECHO_MODEL,
    input: dto.input ?? [],
    instructions: dto.instructions,
    previous_response_id: dto.previous_response_id,
    conversation: dto.conversation,
    tools: dto.tools,
    tool_choice: dto.tool_choice,
    parallel_tool_calls: dto.parallel_tool_calls,
    text: dto.text,
    reasoning: dto.reasoning,
    truncation: dto.truncation,
    store: false,
  });
}
