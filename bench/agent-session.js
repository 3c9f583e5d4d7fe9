'use strict';
/**
 * The scripted agent session of figure 9: what a coding agent's client sends turn by turn, and
 * what its model answers. Deterministic: every text comes from a PRNG seeded by the turn number,
 * so two runs of the session (without and with compaction) send the same conversation, and the
 * upstream's answer to a request depends only on the turn it belongs to.
 *
 * Turn t's user message starts with `Turn t:`. Every CALL_EVERY-th turn it asks to run a command:
 * the model answers with a `shell` function call, and the next turn's input starts with its
 * `function_call_output` (shell output or file contents, 300–1500 characters). Other turns get a
 * short text answer. A request whose last message starts with "Summarize the conversation above"
 * (the gateway's compaction prompt) gets SUMMARY.
 */

const CALL_EVERY = 3;

/** @param {number} seed @returns {() => number} mulberry32: uniform in [0, 1) */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @template T @param {() => number} r @param {readonly T[]} xs @returns {T} */
const pick = (r, xs) => xs[Math.floor(r() * xs.length)];
/** @param {() => number} r @param {number} lo @param {number} hi */
const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));

const DIRS = ['src/agents', 'src/inference', 'src/responses', 'src/database', 'src/common', 'test/e2e', 'test/support'];
const NAMES = ['compactor', 'agent-runner', 'token-counter', 'chat-request', 'truncation', 'model-registry', 'responses-http', 'sql', 'secrets', 'usage'];
const FUNCS = ['compactThreshold', 'retainedUserMessages', 'toChatRequest', 'estimateTokens', 'openCompaction', 'truncateToFit', 'resolve', 'prepare'];
const WORDS = (
  'the a window summary message request response upstream gateway model token count store chain item call output error test case ' +
  'value field retry budget limit threshold client server stream event replay tenant key seal history turn input compaction'
).split(' ');

/** @param {() => number} r */
const file = (r) => `${pick(r, DIRS)}/${pick(r, NAMES)}${r() < 0.3 ? '.spec' : ''}.ts`;

const ASKS = [
  (/** @type {() => number} */ r) => `the test in ${file(r)} still fails after the rename; find out why and fix it without touching the store.`,
  (/** @type {() => number} */ r) => `look at ${pick(r, FUNCS)} in ${file(r)}: it should keep the newest messages. Is it right?`,
  (/** @type {() => number} */ r) => `good. Now add a comment in ${file(r)} saying why the limit is ${int(r, 2, 64)} and not more.`,
  (/** @type {() => number} */ r) => `rename ${pick(r, FUNCS)} to something clearer and update its callers.`,
  (/** @type {() => number} */ r) => `that broke the build, revert the last change in ${file(r)}.`,
  () => 'ok, continue with the next item on the list.',
  (/** @type {() => number} */ r) => `why does ${pick(r, FUNCS)} return null when the model has no context window? Explain briefly.`,
];

const COMMANDS = [
  (/** @type {() => number} */ r) => ({ kind: 'ls', cmd: `ls -la ${pick(r, DIRS)}` }),
  (/** @type {() => number} */ r) => ({ kind: 'test', cmd: `npx jest ${file(r)}` }),
  (/** @type {() => number} */ r) => ({ kind: 'cat', cmd: `cat ${file(r)}` }),
  (/** @type {() => number} */ r) => ({ kind: 'grep', cmd: `grep -rn ${pick(r, FUNCS)} src` }),
  () => ({ kind: 'log', cmd: 'git log --oneline -20' }),
  (/** @type {() => number} */ r) => ({ kind: 'diff', cmd: `git diff ${file(r)}` }),
];

/** @param {number} turn */
const isCallTurn = (turn) => turn % CALL_EVERY === 0;

/** @param {number} turn @returns {{ kind: string, cmd: string }} */
const commandOf = (turn) => pick(prng(turn * 7919 + 1), COMMANDS)(prng(turn * 7919 + 2));

/** The user message of a turn (60–200 characters). @param {number} turn */
function userText(turn) {
  const r = prng(turn * 104729);
  if (isCallTurn(turn)) return `Turn ${turn}: run \`${commandOf(turn).cmd}\` and tell me what you see.`;
  return `Turn ${turn}: ${pick(r, ASKS)(r)}`;
}

/** @param {() => number} r @param {number} n */
const sentence = (r, n) => {
  const words = Array.from({ length: n }, () => pick(r, WORDS));
  return `${words.join(' ').replace(/^./, (c) => c.toUpperCase())}.`;
};

/** The model's text answer to a turn (~150–400 characters). @param {number} turn */
function answerText(turn) {
  const r = prng(turn * 15485863);
  const f = file(r);
  const lines = [`Done: I changed ${pick(r, FUNCS)} in ${f} (${int(r, 1, 40)} lines).`];
  for (let i = int(r, 1, 3); i > 0; i--) lines.push(sentence(r, int(r, 8, 18)));
  if (r() < 0.5) lines.push(`Next I would run \`npx jest ${f}\`.`);
  return lines.join(' ');
}

/** A line of jest output, a directory listing, source code… of one command's output. */
const LINES = {
  ls: (/** @type {() => number} */ r, /** @type {number} */ i) =>
    `${r() < 0.2 ? 'drwxr-xr-x' : '-rw-r--r--'}  1 dev dev ${String(int(r, 120, 48000)).padStart(6)} Nov ${int(r, 10, 28)} ${String(int(r, 0, 23)).padStart(2, '0')}:${String(int(r, 0, 59)).padStart(2, '0')} ${pick(r, NAMES)}${i % 3 ? '.ts' : '.spec.ts'}`,
  test: (/** @type {() => number} */ r) =>
    r() < 0.15
      ? `    ✕ ${sentence(r, int(r, 4, 9))
          .slice(0, -1)
          .toLowerCase()} (${int(r, 2, 900)} ms)\n      Expected: ${int(r, 1, 9000)}\n      Received: ${int(r, 1, 9000)}`
      : `    ✓ ${sentence(r, int(r, 4, 9))
          .slice(0, -1)
          .toLowerCase()} (${int(r, 1, 300)} ms)`,
  cat: (/** @type {() => number} */ r) =>
    pick(r, [
      () => `export function ${pick(r, FUNCS)}(items: StoredItem[], budget: number): StoredItem[] {`,
      () => `  const ${pick(r, WORDS)} = ${pick(r, FUNCS)}(${pick(r, WORDS)}, ${int(r, 0, 4096)});`,
      () => `  if (${pick(r, WORDS)}.length > ${int(r, 1, 200)}) return [];`,
      () => `  // ${sentence(r, int(r, 5, 12))}`,
      () => `  for (const item of ${pick(r, WORDS)}) used += measure(item);`,
      () => `}`,
      () => `import { ${pick(r, FUNCS)} } from './${pick(r, NAMES)}';`,
    ])(),
  grep: (/** @type {() => number} */ r) =>
    `${file(r)}:${int(r, 1, 400)}:  ${pick(r, ['const', 'return', 'export function', 'await'])} ${pick(r, FUNCS)}(${pick(r, WORDS)});`,
  log: (/** @type {() => number} */ r) =>
    `${Math.floor(r() * 0xfffffff)
      .toString(16)
      .padStart(7, '0')} ${sentence(r, int(r, 4, 12)).slice(0, -1)}`,
  diff: (/** @type {() => number} */ r) =>
    `${pick(r, ['+', '-', ' ', ' '])}  ${pick(r, ['const', 'return', 'if (', '//'])} ${pick(r, FUNCS)} ${pick(r, WORDS)} ${int(r, 0, 999)};`,
};

/** The output of turn `turn`'s command, run by the client (300–1500 characters). @param {number} turn */
function toolOutput(turn) {
  const { kind, cmd } = commandOf(turn);
  const r = prng(turn * 32452843);
  const target = int(r, 300, 1500);
  const line = LINES[/** @type {keyof typeof LINES} */ (kind)];
  const out = kind === 'test' ? [`PASS ${cmd.split(' ').at(-1)}`] : kind === 'diff' ? [`diff --git a/${cmd.split(' ').at(-1)}`, '@@ -12,7 +12,9 @@'] : [];
  let length = out.join('\n').length;
  for (let i = 0; length < target; i++) {
    const next = line(r, i);
    if (length + next.length + 1 > target + 80) break;
    out.push(next);
    length += next.length + 1;
  }
  if (kind === 'test') out.push(`\nTests: ${int(r, 1, 3)} failed, ${int(r, 5, 40)} passed\nTime: ${(r() * 9 + 1).toFixed(3)} s`);
  return out.join('\n');
}

/** What the model answers to a compaction's summary call: a fixed ~150-word text. */
const SUMMARY = [
  'The user is working on the responses gateway with me, one small change per turn. Goals: keep the compaction and token',
  'counting code correct, keep the tests green, never touch the store. Done so far: renamed helpers in src/agents and',
  'src/inference and updated their callers; added comments explaining the limits of retainedUserMessages and',
  'compactThreshold; reverted one change in src/agents/compactor.ts that broke the build. Commands run: jest on the spec',
  'files of compactor, token-counter and truncation (two failures about the retained messages, both fixed since), grep',
  'for estimateTokens and toChatRequest, git log and git diff to review the work. Current state: the build passes, the',
  'last test run had no failure. Open tasks: continue with the next item on the list the user keeps, answer questions',
  'about why a function returns null without a context window, and run the affected tests after every change.',
].join(' ');

const SUMMARY_PROMPT_START = 'Summarize the conversation above';

/** The system prompt a client sends with every turn (OpenAI does not carry `instructions` along a chain). */
const INSTRUCTIONS =
  'You are a coding agent working in the repository of the user. Make one small change per turn, run the tests that cover ' +
  'it with the shell tool, and answer briefly with what you did. Never edit files outside the repository.';

/** The one function tool of the session. */
const SHELL_TOOL = {
  type: 'function',
  name: 'shell',
  description: 'Runs a shell command in the repository and returns its output.',
  parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'], additionalProperties: false },
  strict: true,
};

/** @param {unknown} content a chat message's content @returns {string} */
function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((/** @type {{ text?: unknown }} */ p) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

/**
 * What an upstream request is: a summary call or an answer, and the turn it belongs to (the latest
 * `Turn N:` user message).
 * @param {{ messages?: Array<{ role?: string, content?: unknown }> }} body
 */
function classify(body) {
  const messages = body.messages ?? [];
  const last = messages.at(-1);
  const summary = last?.role === 'user' && textOf(last.content).startsWith(SUMMARY_PROMPT_START);
  let turn = 0;
  for (let i = messages.length - 1; i >= 0 && !turn; i--) {
    if (messages[i].role !== 'user') continue;
    const m = /^Turn (\d+):/.exec(textOf(messages[i].content));
    if (m) turn = Number(m[1]);
  }
  return { summary, turn };
}

module.exports = { CALL_EVERY, isCallTurn, commandOf, userText, answerText, toolOutput, SUMMARY, INSTRUCTIONS, SHELL_TOOL, classify, textOf };
