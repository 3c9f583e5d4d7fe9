import type { z } from 'zod';
import {
  conversationSchema,
  deletedConversationSchema,
  deletedFileSchema,
  deletedResponseSchema,
  errorBodySchema,
  fileListSchema,
  fileSchema,
  inputTokensSchema,
  itemListSchema,
  modelListSchema,
  modelSchema,
  responseListSchema,
  responseSchema,
  storedItemSchema,
  streamEventSchema,
} from './schemas';

/** One HTTP answer of the app, as the client received it. */
export interface Exchange {
  method: string;
  /** Path and query, as requested. */
  url: string;
  status: number;
  contentType: string;
  body: string;
}

export interface Violation {
  /** What the object is: `response`, `error`, `stream event response.completed`, `stream`, ... */
  kind: string;
  url: string;
  /** Where in the object (dotted), empty for the object itself. */
  path: string;
  issue: string;
}

export interface Checked {
  /** The kinds of the objects that were validated, one entry per object. */
  kinds: string[];
  violations: Violation[];
}

type Route = [method: string, path: RegExp, kind: string, schema: z.ZodType];
const ID = '[^/]+';
/** The OpenAI objects each route answers with (2xx); other /v1 routes (webhook endpoints) are ours. */
const ROUTES: Route[] = [
  ['POST', /^\/v1\/responses$/, 'response', responseSchema],
  ['POST', /^\/v1\/responses\/input_tokens$/, 'input token count', inputTokensSchema],
  ['GET', /^\/v1\/responses$/, 'response list', responseListSchema],
  ['GET', new RegExp(`^/v1/responses/${ID}$`), 'response', responseSchema],
  ['POST', new RegExp(`^/v1/responses/${ID}/cancel$`), 'response', responseSchema],
  ['DELETE', new RegExp(`^/v1/responses/${ID}$`), 'deleted response', deletedResponseSchema],
  ['GET', new RegExp(`^/v1/responses/${ID}/input_items$`), 'input items list', itemListSchema],
  ['POST', /^\/v1\/conversations$/, 'conversation', conversationSchema],
  ['GET', new RegExp(`^/v1/conversations/${ID}$`), 'conversation', conversationSchema],
  ['POST', new RegExp(`^/v1/conversations/${ID}$`), 'conversation', conversationSchema],
  ['DELETE', new RegExp(`^/v1/conversations/${ID}$`), 'deleted conversation', deletedConversationSchema],
  ['POST', new RegExp(`^/v1/conversations/${ID}/items$`), 'conversation items list', itemListSchema],
  ['GET', new RegExp(`^/v1/conversations/${ID}/items$`), 'conversation items list', itemListSchema],
  ['GET', new RegExp(`^/v1/conversations/${ID}/items/${ID}$`), 'conversation item', storedItemSchema],
  ['DELETE', new RegExp(`^/v1/conversations/${ID}/items/${ID}$`), 'conversation', conversationSchema],
  ['POST', /^\/v1\/files$/, 'file', fileSchema],
  ['GET', /^\/v1\/files$/, 'file list', fileListSchema],
  ['GET', new RegExp(`^/v1/files/${ID}$`), 'file', fileSchema],
  ['DELETE', new RegExp(`^/v1/files/${ID}$`), 'deleted file', deletedFileSchema],
  ['GET', /^\/v1\/models$/, 'model list', modelListSchema],
  ['GET', new RegExp(`^/v1/models/${ID}$`), 'model', modelSchema],
];

const issues = (kind: string, url: string, error: z.ZodError): Violation[] =>
  error.issues.map((i) => ({ kind, url, path: i.path.map(String).join('.'), issue: describe(i) }));

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Name the closest branch: the one with the fewest issues.
    const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0];
    return `${issue.message}; closest: ${closest.map((i) => `${i.path.map(String).join('.') || '(object)'}: ${describe(i)}`).join('; ')}`;
  }
  return issue.message;
}

function check(kind: string, url: string, schema: z.ZodType, value: unknown, out: Checked): void {
  out.kinds.push(kind);
  const result = schema.safeParse(value);
  if (!result.success) out.violations.push(...issues(kind, url, result.error));
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** Validates one answer: the JSON object its route promises, its error body, or its SSE events. */
export function checkExchange(x: Exchange): Checked {
  const out: Checked = { kinds: [], violations: [] };
  const path = x.url.split('?')[0];
  const fail = (kind: string, issue: string): Checked => {
    out.violations.push({ kind, url: `${x.method} ${x.url}`, path: '', issue });
    return out;
  };
  if (x.contentType.startsWith('text/event-stream')) {
    checkStream(x, out);
    return out;
  }
  if (x.status >= 400) {
    if (!x.contentType.startsWith('application/json')) return fail('error', `status ${x.status} with content-type '${x.contentType}', not JSON`);
    const body = parseJson(x.body);
    if (!body.ok) return fail('error', `not JSON: ${body.error}`);
    check('error', `${x.method} ${x.url}`, errorBodySchema, body.value, out);
    return out;
  }
  const route = ROUTES.find(([method, pattern]) => method === x.method && pattern.test(path));
  if (!route || x.status === 204 || x.body === '') return out;
  const [, , kind, schema] = route;
  if (!x.contentType.startsWith('application/json')) return fail(kind, `content-type '${x.contentType}', not application/json`);
  const body = parseJson(x.body);
  if (!body.ok) return fail(kind, `not JSON: ${body.error}`);
  check(kind, `${x.method} ${x.url}`, schema, body.value, out);
  return out;
}

/**
 * The events of one stream, each against its schema, and the stream as a whole as the SDK's
 * `responses.stream()` accumulator and the Open Responses compliance suite need it: `event:` names
 * the payload's `type`, no `[DONE]` and no `id:` lines, sequence numbers from 0 (or from
 * `starting_after + 1`) without gaps, `response.created` first, an item added before any event
 * that refers to it, a content part added before its deltas.
 */
function checkStream(x: Exchange, out: Checked): void {
  const url = `${x.method} ${x.url}`;
  const fail = (kind: string, issue: string, path = '') => out.violations.push({ kind, url, path, issue });
  const startingAfter = new URLSearchParams(x.url.split('?')[1] ?? '').get('starting_after');
  let expected = startingAfter === null ? 0 : Number(startingAfter) + 1;
  const items = new Set<number>();
  const parts = new Set<string>();
  // Only whole events: a stream cut by a disconnect ends in a partial one.
  const blocks = x.body.replace(/\r\n/g, '\n').split('\n\n').slice(0, -1);
  let first = true;
  out.kinds.push('stream');
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l !== '' && !l.startsWith(':'));
    if (lines.length === 0) continue; // a comment (keepalive)
    const event = lines
      .find((l) => l.startsWith('event:'))
      ?.slice(6)
      .trim();
    const data = lines
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (lines.some((l) => l.startsWith('id:'))) fail('stream', 'an `id:` line (OpenAI sends none)');
    if (data === '[DONE]') {
      fail('stream', 'a `data: [DONE]` sentinel (OpenAI sends none)');
      continue;
    }
    const parsed = parseJson(data);
    if (!parsed.ok) {
      fail('stream', `event data is not JSON: ${parsed.error}`);
      continue;
    }
    const payload = parsed.value as { type?: unknown; sequence_number?: unknown; output_index?: unknown; content_index?: unknown };
    const contentIndex = typeof payload.content_index === 'number' ? payload.content_index : undefined;
    const type = typeof payload.type === 'string' ? payload.type : '(no type)';
    const kind = `stream event ${type}`;
    check(kind, url, streamEventSchema, payload, out);
    if (event !== type) fail(kind, `the \`event:\` line says '${event ?? ''}', the payload's type is '${type}'`);
    if (payload.sequence_number !== expected) fail(kind, `sequence_number ${String(payload.sequence_number)}, expected ${expected}`, 'sequence_number');
    expected = (typeof payload.sequence_number === 'number' ? payload.sequence_number : expected) + 1;
    if (first && startingAfter === null && type !== 'response.created') fail(kind, 'the first event of a stream is response.created');
    first = false;
    const index = typeof payload.output_index === 'number' ? payload.output_index : undefined;
    if (type === 'response.output_item.added' && index !== undefined) items.add(index);
    else if (index !== undefined && startingAfter === null && !items.has(index))
      fail(kind, `refers to output_index ${index} before its response.output_item.added`, 'output_index');
    const part = `${index}:${contentIndex}`;
    if (type === 'response.content_part.added') parts.add(part);
    else if (/\.(delta|done)$/.test(type) && contentIndex !== undefined && startingAfter === null && !parts.has(part)) {
      fail(kind, `refers to content_index ${contentIndex} of output ${index} before its response.content_part.added`, 'content_index');
    }
  }
}
