import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { FileSearchTool as FileSearchConfig, ResponseFileSearchToolCall, ResponseOutputText } from 'openai/resources/responses/responses';
import { newId } from '../common/ids';
import type { NormalizedRequest } from '../common/response-types';
import { isAbort } from '../inference/upstream-error';
import type { ChunkHit } from '../vector-stores/persistence/vector-stores.store';
import type { Filter } from '../vector-stores/retrieval/filters';
import type { SearchRequest } from '../vector-stores/retrieval/vector-search';
import type { OutputBuilder } from './output-builder';

/** The function the model is offered for a `file_search` tool. */
export const FILE_SEARCH_FUNCTION = 'file_search';
/** OpenAI's default number of results per search. */
const DEFAULT_RESULTS = 10;
/** Queries one call may make, and the text of each. */
const MAX_QUERIES = 5;
const MAX_QUERY_CHARS = 1000;
/** Files cited at the end of a text that names none: the best-ranked ones. */
const UNNAMED_CITATIONS = 3;

export type FileSearchFn = (request: SearchRequest) => Promise<ChunkHit[]>;

const TOOL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: FILE_SEARCH_FUNCTION,
    description:
      "Search the user's uploaded documents. Returns the passages that best match, each with the file it comes from. " +
      'Use it for questions the documents may answer; name the file (its filename) you used in your answer.',
    parameters: {
      type: 'object',
      properties: { queries: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: MAX_QUERIES, description: 'One or more search queries.' } },
      required: ['queries'],
      additionalProperties: false,
    },
  },
};

type Citation = ResponseOutputText.FileCitation;

/** The queries of a model's call: `{"queries": [...]}`, `{"query": "…"}` or plain text. */
export function queriesOf(args: string): string[] {
  let value: unknown = args;
  try {
    value = JSON.parse(args);
  } catch {
    // a model that wrote the query as text
  }
  const raw =
    typeof value === 'string'
      ? [value]
      : value && typeof value === 'object'
        ? ((value as { queries?: unknown; query?: unknown }).queries ?? (value as { query?: unknown }).query)
        : [];
  const list = (Array.isArray(raw) ? raw : [raw]).filter((q): q is string => typeof q === 'string' && q.trim() !== '');
  return list.slice(0, MAX_QUERIES).map((q) => q.slice(0, MAX_QUERY_CHARS));
}

/**
 * The `file_search` tool of one response: offered to the model as a function, run server-side
 * over the request's vector stores with the owner's rights, reported as `file_search_call`
 * items with their events, and cited on the final text as `file_citation` annotations pointing
 * at files the searches returned.
 */
export class FileSearchToolRun {
  private readonly retrieved = new Map<string, string>(); // file id → filename, in first-seen order

  private constructor(
    private readonly config: FileSearchConfig,
    private readonly owner: string,
    private readonly includeResults: boolean,
    private readonly search: FileSearchFn,
  ) {}

  static from(request: NormalizedRequest, owner: string | undefined, search: FileSearchFn | undefined): FileSearchToolRun | null {
    const config = request.tools?.find((t): t is FileSearchConfig => t.type === 'file_search');
    if (!config || !search || owner === undefined) return null;
    return new FileSearchToolRun(config, owner, request.include?.includes('file_search_call.results') ?? false, search);
  }

  readonly chatTool = TOOL;

  owns(chatName: string): boolean {
    return chatName === FILE_SEARCH_FUNCTION;
  }

  /** Runs one call: the `file_search_call` item and its events; returns what the model reads. */
  async call(builder: OutputBuilder, args: string, signal: AbortSignal): Promise<string> {
    const queries = queriesOf(args);
    const item: ResponseFileSearchToolCall = { id: newId('fs'), type: 'file_search_call', status: 'in_progress', queries, results: null };
    const index = builder.addItem(structuredClone(item));
    builder.event({ type: 'response.file_search_call.in_progress', item_id: item.id, output_index: index });
    builder.event({ type: 'response.file_search_call.searching', item_id: item.id, output_index: index });
    if (!queries.length) {
      builder.doneItem(index, { ...item, status: 'failed' });
      return 'Error: file_search needs at least one query, as {"queries": ["…"]}.';
    }
    let hits: ChunkHit[];
    try {
      hits = await this.search({
        owner: this.owner,
        vectorStoreIds: this.config.vector_store_ids,
        queries,
        maxResults: this.config.max_num_results ?? DEFAULT_RESULTS,
        filter: (this.config.filters ?? undefined) as Filter | undefined,
        scoreThreshold: this.config.ranking_options?.score_threshold,
        signal,
      });
    } catch (error) {
      if (signal.aborted || isAbort(error)) throw error;
      builder.doneItem(index, { ...item, status: 'failed' });
      return `Error: the search failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    for (const h of hits) if (!this.retrieved.has(h.fileId)) this.retrieved.set(h.fileId, h.filename);
    const results = hits.map((h) => ({ file_id: h.fileId, filename: h.filename, score: h.score, text: h.text, attributes: h.attributes }));
    builder.event({ type: 'response.file_search_call.completed', item_id: item.id, output_index: index });
    builder.doneItem(index, { ...item, status: 'completed', results: this.includeResults ? results : null });
    if (!hits.length) return 'No results: the documents have nothing that matches these queries.';
    return hits
      .map((h, i) => `<result index="${i}" file_id="${h.fileId}" filename="${h.filename}" score="${h.score.toFixed(3)}">\n${h.text}\n</result>`)
      .join('\n');
  }

  /**
   * Citations for the final text: each retrieved file it names (by filename or id) is cited right
   * after the mention; a text that names none cites the best-ranked files the searches found, at its end.
   */
  annotate(text: string): Citation[] {
    if (!this.retrieved.size) return [];
    const citations: Citation[] = [];
    for (const [fileId, filename] of this.retrieved) {
      for (const name of [filename, fileId]) {
        const at = name ? text.indexOf(name) : -1;
        if (at >= 0) {
          citations.push({ type: 'file_citation', file_id: fileId, filename, index: at + name.length });
          break;
        }
      }
    }
    if (!citations.length) {
      for (const [fileId, filename] of [...this.retrieved].slice(0, UNNAMED_CITATIONS))
        citations.push({ type: 'file_citation', file_id: fileId, filename, index: text.length });
    }
    return citations.sort((a, b) => a.index - b.index);
  }
}
