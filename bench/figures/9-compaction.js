'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/**
 * Figure 9: a 200-turn scripted agent session (bench/agent-session.js) through the built gateway,
 * `previous_response_id` chains with `store: true` on the embedded store (DATA_DIR=memory://):
 * (a) without compaction, (b) with `context_management: [{type: 'compaction', compact_threshold}]`.
 * Measured: the prompt tokens the upstream got per turn (Llama 3's count, as vLLM's /tokenize
 * counts), the summary calls apart, and the error of the gateway's own estimate (o200k_base,
 * `estimateTokens`) against that count on the prompts of session (a).
 *
 * The upstream is the tests' fake, in this process: the figure reads the bodies it got, and no
 * CPU is measured here. It counts every prompt with Llama 3's tokenizer; the prompt is counted
 * piece by piece between the chat template's special tokens (which the tokenizer never merges
 * across), each piece once, so that 200 growing prompts stay cheap. That this equals the fake's
 * own count of the whole prompt (`POST /tokenize`, `countPromptTokens`) is checked on every sampled
 * prompt: a difference fails the figure.
 */
const path = require('node:path');
const procs = require('../procs');
const cleanup = require('../cleanup');
const { Client } = require('../client');
const { requireTs } = require('../typescript');
const { log, round } = require('../measure');
const session = require('../agent-session');

/** The session's length: 200 turns, or `--compaction-turns=N` (10–1000, for development). @param {string[]} argv */
const turnsOf = (argv) => {
  const given = Number((argv.find((a) => a.startsWith('--compaction-turns=')) ?? '').slice('--compaction-turns='.length));
  return Number.isInteger(given) && given >= 10 && given <= 1000 ? given : 200;
};
const THRESHOLD = 8000;
/** The turns of session (a) whose prompts the estimate is compared on. */
const SAMPLED = (/** @type {number} */ turn) => turn === 1 || turn % 10 === 0;
/** @param {number} turns */
const reportedTurns = (turns) => [1, ...[1, 2, 3, 4].map((q) => Math.round((q * turns) / 4))];

/** @typedef {typeof import('../../test/support/fake-upstream')} Fake */
/** @type {Fake | null} */
let loaded = null;
/** The tests' fake, transpiled on first use (run.js loads every figure, most runs skip this one). */
const fakeUpstream = () => (loaded ??= /** @type {Fake} */ (requireTs(path.join(__dirname, '..', '..', 'test', 'support', 'fake-upstream.ts'))));

/** @typedef {{ encode(text: string, options?: { bos?: boolean, eos?: boolean }): number[] }} Llama3 */
/** @typedef {{ model: string, messages: Array<{ role: string, content?: unknown }>, tools?: unknown[] }} ChatBody */
/** @typedef {{ run: string, turn: number, summary: boolean, tokens: number, body: ChatBody | null }} UpstreamCall */

const SPECIAL = /<\|(?:begin_of_text|start_header_id|end_header_id|eot_id)\|>/g;

/**
 * Llama 3's count of a chat request, as the fake's llama3PromptTokens, with each text between two
 * special tokens counted once. @param {Llama3} llama3
 */
function pieceCounter(llama3) {
  const fake = fakeUpstream();
  /** @type {Map<string, number>} */
  const pieces = new Map();
  return (/** @type {Record<string, unknown>} */ body) => {
    const prompt = fake.llama3Prompt(body, true);
    let tokens = 0;
    let from = 0;
    const count = (/** @type {string} */ text) => {
      if (!text) return 0;
      let n = pieces.get(text);
      if (n === undefined) pieces.set(text, (n = llama3.encode(text, { bos: false, eos: false }).length));
      return n;
    };
    for (const match of prompt.matchAll(SPECIAL)) {
      tokens += count(prompt.slice(from, match.index)) + 1;
      from = match.index + match[0].length;
    }
    return tokens + count(prompt.slice(from));
  };
}

/** @param {number[]} xs */
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
/** @param {number[]} xs */
const mean = (xs) => (xs.length ? sum(xs) / xs.length : NaN);

/** @type {import('../context').Figure} */
module.exports = {
  fig: '9',
  name: (ctx) => `Compaction, ${turnsOf(ctx.argv)}-turn session`,
  uses: [],
  // About a minute on its own (200 turns twice, the embedded store's start-up): full runs, or --only=9.
  fullOnly: true,
  targets: [
    { key: 'aTotal', metric: (ctx) => `(a) no compaction: input tokens sent upstream, ${turnsOf(ctx.argv)} turns`, unit: '', op: null, limit: null },
    { key: 'bTotal', metric: '(b) compaction: input tokens sent upstream (answers + summaries)', unit: '', op: null, limit: null },
    { key: 'ratio', metric: 'total input tokens sent upstream, (b) / (a)', unit: '×', op: '<=', limit: 0.5 },
    { key: 'aLast', metric: (ctx) => `(a) input tokens of turn ${turnsOf(ctx.argv)}`, unit: '', op: null, limit: null },
    { key: 'bMaxOverT', metric: `(b) max input tokens of an answer / compact_threshold (${THRESHOLD})`, unit: '×', op: '<=', limit: 1.25 },
    { key: 'compactions', metric: '(b) compactions', unit: '', op: null, limit: null },
    { key: 'afterLast', metric: "(b) the answer's input right after the last compaction / compact_threshold", unit: '×', op: null, limit: null },
    {
      key: 'estMean',
      metric: 'estimate vs upstream tokenizer: mean error, estimate / upstream − 1 (session (a), every 10th turn)',
      unit: ' %',
      op: null,
      limit: null,
    },
    { key: 'estMeanAbs', metric: 'estimate vs upstream tokenizer: mean absolute error', unit: ' %', op: '<=', limit: 25 },
    { key: 'estMaxAbs', metric: 'estimate vs upstream tokenizer: max absolute error, every sampled prompt', unit: ' %', op: '<=', limit: 25 },
    { key: 'estMaxAbsLarge', metric: 'estimate vs upstream tokenizer: max absolute error, prompts of 1,000+ tokens', unit: ' %', op: '<=', limit: 10 },
  ],
  async run(ctx) {
    const TURNS = turnsOf(ctx.argv);
    const REPORTED_TURNS = reportedTurns(TURNS);
    const scope = cleanup.scope('figure 9');
    const started = Date.now();
    try {
      /** @type {unknown} */
      const tokenizerModule = require('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs');
      const llama3 = /** @type {{ llama3Tokenizer: Llama3 }} */ (tokenizerModule).llama3Tokenizer;
      const count = pieceCounter(llama3);
      /** @type {UpstreamCall[]} */
      const calls = [];
      const upstream = await fakeUpstream().startFakeUpstream({ maxRecords: 10 });
      scope.defer('upstream', () => upstream.close());
      upstream.setScripter((body) => {
        const { summary, turn } = session.classify(/** @type {ChatBody} */ (body));
        const run = String(body['model']);
        const tokens = count(body);
        const keep = !summary && run === 'agent-a' && SAMPLED(turn);
        calls.push({ run, turn, summary, tokens, body: keep ? /** @type {ChatBody} */ (body) : null });
        const usage = (/** @type {string} */ text) => ({ prompt_tokens: tokens, completion_tokens: llama3.encode(text, { bos: false, eos: false }).length });
        if (summary) return { text: session.SUMMARY, usage: usage(session.SUMMARY) };
        if (session.isCallTurn(turn)) {
          const args = JSON.stringify({ cmd: session.commandOf(turn).cmd });
          return { toolCalls: [{ id: `call_t${turn}`, name: 'shell', arguments: args }], usage: usage(args) };
        }
        const text = session.answerText(turn);
        return { text, usage: usage(text) };
      });
      // INFERENCE_BASE_URL alone: every model name goes to it unchanged, its tokenizer is the estimate.
      const gw = await ctx.gateway('gateway-compaction', {
        ROLE: 'all',
        DATA_DIR: 'memory://',
        INFERENCE_BASE_URL: upstream.url,
        SECRETS_KEY: 'bench-compaction-secret-key-0123456789',
      });
      scope.defer('gateway', () => gw.stop('SIGKILL'));
      const client = new Client(gw.url);
      scope.defer('client', () => client.close());

      /**
       * `POST /v1/responses/input_tokens` (the gateway's own count of a create body), where this
       * build has it: null once it answered 404.
       * @type {Map<number, { tokens: number, source: string | null }> | null}
       */
      let endpoint = new Map();
      /** @param {number} turn @param {Record<string, unknown>} body */
      const countByEndpoint = async (turn, body) => {
        if (!endpoint) return;
        const reply = await fetch(`${gw.url}/v1/responses/input_tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        if (reply.status === 404) {
          log('figure 9: this build has no POST /v1/responses/input_tokens: the estimate is estimateTokens of dist/ on the bodies the upstream got');
          endpoint = null;
          return;
        }
        if (!reply.ok) throw new Error(`POST /v1/responses/input_tokens → ${reply.status}: ${(await reply.text()).slice(0, 300)}`);
        const counted = /** @type {{ input_tokens: number }} */ (await reply.json());
        endpoint.set(turn, { tokens: counted.input_tokens, source: reply.headers.get('x-token-count-source') });
      };

      /** @param {'a' | 'b'} which */
      const converse = async (which) => {
        const t0 = Date.now();
        /** @type {Array<{ turn: number, inputTokens: number, compacted: boolean }>} */
        const turns = [];
        let previous = /** @type {string | null} */ (null);
        let pendingCall = /** @type {string | null} */ (null);
        for (let turn = 1; turn <= TURNS; turn++) {
          /** @type {unknown[]} */
          const input = [];
          if (pendingCall) input.push({ type: 'function_call_output', call_id: pendingCall, output: session.toolOutput(turn - 1) });
          input.push({ type: 'message', role: 'user', content: session.userText(turn) });
          const body = {
            model: `agent-${which}`,
            store: true,
            instructions: session.INSTRUCTIONS,
            tools: [session.SHELL_TOOL],
            input,
            ...(previous ? { previous_response_id: previous } : {}),
            ...(which === 'b' ? { context_management: [{ type: 'compaction', compact_threshold: THRESHOLD }] } : {}),
          };
          if (which === 'a' && SAMPLED(turn)) await countByEndpoint(turn, body);
          const res = await client.json('POST', '/v1/responses', body);
          const output = /** @type {Array<{ type: string, call_id?: string }>} */ (res.output);
          if (res.status !== 'completed') throw new Error(`turn ${turn} of (${which}): ${JSON.stringify(res).slice(0, 500)}`);
          previous = /** @type {string} */ (res.id);
          pendingCall = output.find((i) => i.type === 'function_call')?.call_id ?? null;
          const usage = /** @type {{ input_tokens: number }} */ (res.usage);
          turns.push({ turn, inputTokens: usage.input_tokens, compacted: output.some((i) => i.type === 'compaction') });
        }
        log(`figure 9: session (${which}), ${TURNS} turns in ${round((Date.now() - t0) / 1000, 1)} s`);
        return turns;
      };
      log(`figure 9: gateway up (${round((Date.now() - started) / 1000, 1)} s)`);
      const a = await converse('a');
      const b = await converse('b');

      /** @param {string} run */
      const perTurn = (run) => {
        /** @type {Map<number, { answer: number, summaries: number[] }>} */
        const byTurn = new Map();
        for (const c of calls.filter((x) => x.run === run)) {
          const t = byTurn.get(c.turn) ?? { answer: 0, summaries: [] };
          if (c.summary) t.summaries.push(c.tokens);
          else t.answer += c.tokens;
          byTurn.set(c.turn, t);
        }
        return byTurn;
      };
      const upA = perTurn('agent-a');
      const upB = perTurn('agent-b');
      // The usage the gateway reports is what the upstream counted: the answer's prompt, plus the summary call's when it compacted.
      for (const [run, turns, up] of /** @type {const} */ ([
        ['a', a, upA],
        ['b', b, upB],
      ])) {
        for (const t of turns) {
          const u = up.get(t.turn);
          const upstreamTotal = (u?.answer ?? 0) + sum(u?.summaries ?? []);
          if (t.inputTokens !== upstreamTotal)
            throw new Error(`(${run}) turn ${t.turn}: usage.input_tokens ${t.inputTokens}, the upstream got ${upstreamTotal}`);
          if (t.compacted !== (u?.summaries.length ?? 0) > 0) throw new Error(`(${run}) turn ${t.turn}: compaction item and summary calls disagree`);
        }
      }
      const answers = (/** @type {typeof upA} */ up) => Array.from({ length: TURNS }, (_, i) => up.get(i + 1)?.answer ?? 0);
      const aAnswers = answers(upA);
      const bAnswers = answers(upB);
      const bSummaries = [...upB.values()].flatMap((t) => t.summaries);
      const compactedAt = b.filter((t) => t.compacted).map((t) => t.turn);
      const aTotal = sum(aAnswers);
      const bTotal = sum(bAnswers) + sum(bSummaries);
      // One turn's growth: what a turn adds to the prompt of session (a).
      const growth = aAnswers.slice(1).map((x, i) => x - aAnswers[i]);

      // The estimate on the prompts of session (a), against the fake's /tokenize (the upstream's tokenizer).
      log(`figure 9: checking the counts and the estimate on ${calls.filter((x) => x.body).length} prompts of (a)`);
      /** @type {unknown} */
      const counterModule = require(path.join(procs.dist.dir, 'inference', 'token-counter.js'));
      const { estimateTokens } = /** @type {{ estimateTokens: (p: { messages: unknown[], tools?: unknown[] }) => number }} */ (counterModule);
      const tokenizeUrl = new URL('/tokenize', upstream.url);
      /** @type {Array<{ turn: number, upstream: number, estimate: number, error: number, endpoint?: number, endpointSource?: string | null }>} */
      const samples = [];
      for (const c of calls.filter((x) => x.body)) {
        const body = /** @type {ChatBody} */ (c.body);
        const reply = await fetch(tokenizeUrl, { method: 'POST', body: JSON.stringify({ model: body.model, messages: body.messages, tools: body.tools }) });
        const counted = /** @type {{ count: number }} */ (await reply.json()).count;
        if (counted !== c.tokens) throw new Error(`turn ${c.turn}: /tokenize counts ${counted}, the figure's piecewise count ${c.tokens}`);
        const estimate = estimateTokens({ messages: body.messages, ...(body.tools ? { tools: body.tools } : {}) });
        const viaEndpoint = endpoint?.get(c.turn);
        samples.push({
          turn: c.turn,
          upstream: counted,
          estimate,
          error: round((estimate / counted - 1) * 100, 2),
          ...(viaEndpoint ? { endpoint: viaEndpoint.tokens, endpointSource: viaEndpoint.source } : {}),
        });
      }
      // The same error per kind of text (the texts alone, no chat framing).
      /** @type {unknown} */
      const o200kModule = require('gpt-tokenizer/encoding/o200k_base');
      const { countTokens: o200k } = /** @type {{ countTokens: (text: string) => number }} */ (o200kModule);
      const kinds = /** @type {Record<string, string[]>} */ ({ 'user messages': [], 'assistant answers': [], 'tool outputs': [], summary: [session.SUMMARY] });
      for (let turn = 1; turn <= TURNS; turn++) {
        kinds['user messages'].push(session.userText(turn));
        if (session.isCallTurn(turn)) kinds['tool outputs'].push(session.toolOutput(turn));
        else kinds['assistant answers'].push(session.answerText(turn));
      }
      /** @param {string} mine @param {string} theirs */
      const compare = (mine, theirs) => {
        const up = llama3.encode(theirs, { bos: false, eos: false }).length;
        return { chars: theirs.length, o200k: o200k(mine), llama3: up, error: round((o200k(mine) / up - 1) * 100, 2) };
      };
      const byKind = Object.fromEntries(Object.entries(kinds).map(([kind, texts]) => [kind, compare(texts.join('\n'), texts.join('\n'))]));
      // The tools as each side renders them: the estimate counts their JSON, Llama 3's chat template indents it by 4.
      const chatTool = {
        type: 'function',
        function: { name: 'shell', description: session.SHELL_TOOL.description, parameters: session.SHELL_TOOL.parameters, strict: true },
      };
      byKind['tool definition'] = compare(JSON.stringify([chatTool]), JSON.stringify(chatTool, null, 4));

      const errors = samples.map((s) => s.error);
      const largeErrors = samples.filter((s) => s.upstream >= 1000).map((s) => Math.abs(s.error));
      const at = (/** @type {number[]} */ xs) => Object.fromEntries(REPORTED_TURNS.map((t) => [t, xs[t - 1]]));
      const quarters = [0, 1, 2, 3].map((q) => compactedAt.filter((t) => t > (q * TURNS) / 4 && t <= ((q + 1) * TURNS) / 4).length);
      return {
        details: {
          description: `${TURNS}-turn scripted agent session (a user message per turn, a shell call and its 300–1500-character output every ${session.CALL_EVERY}rd turn), previous_response_id chain with store: true on DATA_DIR=memory://, (a) without and (b) with context_management compaction at compact_threshold ${THRESHOLD}; the upstream counts prompts with Llama 3's tokenizer`,
          threshold: THRESHOLD,
          turns: TURNS,
          a: { perTurn: at(aAnswers), max: Math.max(...aAnswers), total: aTotal, maxGrowth: Math.max(...growth), meanGrowth: round(mean(growth), 1) },
          b: {
            perTurn: at(bAnswers),
            maxAnswer: Math.max(...bAnswers),
            answersTotal: sum(bAnswers),
            compactions: compactedAt.length,
            compactedAt,
            compactionsPerQuarter: quarters,
            summaryCalls: {
              count: bSummaries.length,
              inputTotal: sum(bSummaries),
              inputMax: Math.max(0, ...bSummaries),
              inputMean: round(mean(bSummaries), 0),
            },
            total: bTotal,
            // The answer prompt right after each compaction: what the compacted window costs.
            afterCompaction: compactedAt.map((t) => bAnswers[t - 1]),
          },
          ratio: round(bTotal / aTotal, 3),
          estimate: {
            samples,
            meanError: round(mean(errors), 2),
            meanAbsError: round(mean(errors.map(Math.abs)), 2),
            maxAbsError: round(Math.max(...errors.map(Math.abs)), 2),
            maxAbsErrorFrom1000Tokens: round(Math.max(...largeErrors), 2),
            source: endpoint
              ? 'POST /v1/responses/input_tokens and estimateTokens of dist/'
              : 'estimateTokens of dist/ (this build has no POST /v1/responses/input_tokens)',
            byKind,
          },
        },
        measured: {
          aTotal,
          bTotal,
          ratio: bTotal / aTotal,
          aLast: aAnswers[TURNS - 1],
          bMaxOverT: Math.max(...bAnswers) / THRESHOLD,
          compactions: compactedAt.length,
          afterLast: compactedAt.length ? bAnswers[compactedAt[compactedAt.length - 1] - 1] / THRESHOLD : NaN,
          estMeanAbs: mean(errors.map(Math.abs)),
          estMaxAbs: Math.max(...errors.map(Math.abs)),
          estMaxAbsLarge: Math.max(...largeErrors),
          estMean: mean(errors),
        },
      };
    } finally {
      await scope.close();
    }
  },
};
