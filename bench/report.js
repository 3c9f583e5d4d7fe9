'use strict';
/** The markdown report of a run (bench/results/latest.md; docs/performance.md quotes a full run's). */

/**
 * The shapes of bench/results/latest.json's figures (run.js fills them in).
 * @typedef {{ rps: number, p50Ms: number, p99Ms: number, requests: number, errors: number, cpuUsPerReq: Record<string, number>, sysUsPerReq: Record<string, number> }} Run
 * @typedef {{ p50Ms: number, p99Ms: number, streamP50Ms: number }} Ttft
 * @typedef {{ completed: number, perSecond: number, acceptedPerSecond: number, cpuUsPerResponse: Record<string, number> }} Batch
 * @typedef {{ description: string } & Record<string, number | string>} Flat
 * @typedef {{
 *   '1'?: { description: string, runs: Record<string, Run> },
 *   '2'?: { description: string, runs: Record<string, Run>, ttftConcurrency1: { direct: Ttft, gateway: Ttft, unstored?: Ttft, commitP50Ms?: number, pairs: number },
 *     perChunk?: { gatewayUs: number, directUpstreamUs: number } },
 *   '3'?: Flat & { createP50Ms: number, createP99Ms: number, liveP50Ms: number, liveP99Ms: number, apiAloneCreateP50Ms?: number, apiAloneCreateP99Ms?: number, apiAloneLiveP50Ms?: number, apiAloneLiveP99Ms?: number },
 *   '4'?: { description: string, sync: Run, oneWorker: Batch, twoWorkers: Batch },
 *   '5'?: Flat, '6'?: Flat, '8'?: Flat,
 *   '7'?: { description: string, sizes: { small: number, large: number }, seedSeconds: number, samples: number, ops: Record<string, { smallP50Ms: number, largeP50Ms: number, ratio: number }> },
 *   '9'?: Compaction,
 *   '10'?: WebSocketFigure,
 * }} Figures
 * @typedef {{ cpuMsPerTurn: number, p50TurnMs: number, lastTurnP50Ms: number, sumOfTurnsMs: number, loopWallMs: number, payloadBytes: number, wireBytesWritten: number, wireBytesRead: number }} WsSeries
 * @typedef {{ description: string, turns: number, rounds: number, series: Record<string, WsSeries>,
 *   ratios: Record<string, Record<string, number>>, memory: Record<string, unknown> & { sockets: number, heapPerSocketKiB: number, externalPerSocketKiB: number, rssPerSocketKiB: number, heapLeftPerSocketKiB: number } }} WebSocketFigure
 * @typedef {{ description: string, threshold: number, turns: number, ratio: number,
 *   a: { perTurn: Record<string, number>, max: number, total: number, maxGrowth: number, meanGrowth: number },
 *   b: { perTurn: Record<string, number>, maxAnswer: number, answersTotal: number, compactions: number, compactedAt: number[], compactionsPerQuarter: number[],
 *     summaryCalls: { count: number, inputTotal: number, inputMax: number, inputMean: number }, total: number, afterCompaction: number[] },
 *   estimate: { samples: Array<{ turn: number, upstream: number, estimate: number, error: number, endpoint?: number, endpointSource?: string | null }>,
 *     meanError: number, meanAbsError: number, maxAbsError: number, maxAbsErrorFrom1000Tokens: number, source: string,
 *     byKind: Record<string, { chars: number, o200k: number, llama3: number, error: number }> } }} Compaction
 * @typedef {{ requests: number, rpsUnderProfiler: number } & ReturnType<import('./profile').summarize>} ProfileSummary
 */

/** @param {unknown} v */
const fmt = (v) => (typeof v === 'number' ? v.toLocaleString('en', { maximumFractionDigits: 3 }) : String(v));

/** @param {string[]} header @param {unknown[][]} rows */
function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`)].join('\n');
}

/** @param {Record<string, Run>} runs */
function runsTable(runs) {
  const names = [...new Set(Object.values(runs).flatMap((r) => Object.keys(r.cpuUsPerReq)))];
  return table(
    ['path @ concurrency', 'req/s', 'p50 ms', 'p99 ms', ...names.map((n) => `CPU µs/req ${n} (system)`), 'requests', 'errors'],
    Object.entries(runs).map(([k, r]) => [
      k,
      r.rps,
      r.p50Ms,
      r.p99Ms,
      ...names.map((n) => `${fmt(r.cpuUsPerReq[n])} (${fmt(r.sysUsPerReq[n])})`),
      r.requests,
      r.errors,
    ]),
  );
}

/** @param {Flat} o */
function keyValues(o) {
  return table(
    ['measure', 'value'],
    Object.entries(o).filter(([k]) => k !== 'description'),
  );
}

/**
 * @param {{ mode: string, command: string, startedAt: string, durationS: number, loadTool: string,
 *   machine: { nproc: number, cpuModel: string, memTotalGiB: number, node: string },
 *   checks: Array<{ fig: string, name: string, metric: string, display: string, target: string, met: boolean | null }>,
 *   figures: Figures, profiles: Record<string, ProfileSummary>, errors: Record<string, string> }} results
 */
function markdown(results) {
  const m = results.machine;
  const out = [];
  out.push(`## Benchmark: ${results.mode} run, ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC (${results.durationS} s)`);
  out.push('');
  out.push(`${m.nproc} CPUs (${m.cpuModel}), ${m.memTotalGiB} GiB RAM, Node ${m.node}; load by ${results.loadTool}. Command: \`${results.command}\`.`);
  out.push('');
  out.push(
    table(
      ['#', 'figure', 'measure', 'measured', 'target', 'result'],
      results.checks.map((c) => [c.fig, c.name, c.metric, c.display, c.target, c.met === null ? 'reported' : c.met ? '**met**' : '**MISSED**']),
    ),
  );
  for (const [fig, error] of Object.entries(results.errors)) out.push(`\nFigure ${fig} failed: \`${error.split('\n')[0]}\``);
  out.push('');
  out.push('### Details');
  const f = results.figures;
  const one = f['1'];
  if (one) out.push('', `**1. Overhead, synchronous**: ${one.description}`, '', runsTable(one.runs));
  const two = f['2'];
  if (two) {
    const t = two.ttftConcurrency1;
    out.push('', `**2. Overhead, streaming**: ${two.description}`, '', runsTable(two.runs), '');
    out.push(
      table(
        ['concurrency 1, interleaved', 'TTFT p50 ms', 'TTFT p99 ms', 'whole stream p50 ms'],
        [
          ['direct', t.direct.p50Ms, t.direct.p99Ms, t.direct.streamP50Ms],
          ['gateway', t.gateway.p50Ms, t.gateway.p99Ms, t.gateway.streamP50Ms],
          ...(t.unstored ? [['gateway, store:false', t.unstored.p50Ms, t.unstored.p99Ms, t.unstored.streamP50Ms]] : []),
          ...(t.commitP50Ms !== undefined ? [['one Postgres commit (a one-row INSERT)', t.commitP50Ms, '', '']] : []),
        ],
      ),
    );
    if (two.perChunk)
      out.push(
        '',
        `CPU per further chunk (50-chunk minus 1-chunk streams, / 49): gateway ${two.perChunk.gatewayUs} µs, the direct upstream ${two.perChunk.directUpstreamUs} µs.`,
      );
  }
  const three = f['3'];
  if (three) {
    out.push('', `**3. Time to queued**: ${three.description}`, '');
    out.push(
      table(
        ['request', 'p50 ms', 'p99 ms'],
        [
          ['POST background (worker busy)', three.createP50Ms, three.createP99Ms],
          ['GET /health/live (worker busy)', three.liveP50Ms, three.liveP99Ms],
          ...(three.apiAloneCreateP50Ms === undefined
            ? []
            : [
                ['POST background (API alone)', three.apiAloneCreateP50Ms, three.apiAloneCreateP99Ms],
                ['GET /health/live (API alone)', three.apiAloneLiveP50Ms, three.apiAloneLiveP99Ms],
              ]),
        ],
      ),
    );
  }
  const four = f['4'];
  if (four) {
    const cpuNames = [...new Set([...Object.keys(four.oneWorker.cpuUsPerResponse), ...Object.keys(four.twoWorkers.cpuUsPerResponse)])];
    out.push('', `**4. Background throughput**: ${four.description}`, '');
    out.push(
      table(
        ['mode', 'per second', ...cpuNames.map((n) => `CPU µs/response ${n}`)],
        [
          ['synchronous (c=32)', four.sync.rps, ...cpuNames.map((n) => four.sync.cpuUsPerReq[n] ?? '—')],
          [
            `background, 1 worker (accepted ${four.oneWorker.acceptedPerSecond}/s)`,
            four.oneWorker.perSecond,
            ...cpuNames.map((n) => four.oneWorker.cpuUsPerResponse[n] ?? '—'),
          ],
          [
            `background, 2 workers (accepted ${four.twoWorkers.acceptedPerSecond}/s)`,
            four.twoWorkers.perSecond,
            ...cpuNames.map((n) => four.twoWorkers.cpuUsPerResponse[n] ?? '—'),
          ],
        ],
      ),
    );
  }
  for (const [n, title] of /** @type {const} */ ([
    ['5', 'Cancel latency'],
    ['6', 'Resume'],
    ['8', 'Memory'],
  ])) {
    const x = f[n];
    if (x) out.push('', `**${n}. ${title}**: ${x.description}`, '', keyValues(x));
  }
  const seven = f['7'];
  if (seven) {
    out.push('', `**7. Store scale**: ${seven.description} (seeding took ${seven.seedSeconds} s)`, '');
    out.push(
      table(
        ['request', `p50 ms at ${fmt(seven.sizes.small)}`, `p50 ms at ${fmt(seven.sizes.large)}`, 'ratio'],
        Object.entries(seven.ops).map(([op, r]) => [op, r.smallP50Ms, r.largeP50Ms, r.ratio]),
      ),
    );
  }
  const nine = f['9'];
  if (nine) {
    const { a, b, estimate } = nine;
    out.push('', `**9. Compaction, ${nine.turns}-turn session**: ${nine.description}`, '');
    out.push(
      table(
        ['input tokens sent upstream', ...Object.keys(a.perTurn).map((t) => `turn ${t}`), 'max', `sum of ${nine.turns} turns`],
        [
          ['(a) no compaction', ...Object.values(a.perTurn), a.max, a.total],
          ['(b) compaction: the answer', ...Object.values(b.perTurn), b.maxAnswer, b.answersTotal],
          [
            `(b) compaction: ${b.summaryCalls.count} summary calls`,
            ...Object.keys(a.perTurn).map(() => ''),
            b.summaryCalls.inputMax,
            b.summaryCalls.inputTotal,
          ],
          ['(b) in all', ...Object.keys(a.perTurn).map(() => ''), '', b.total],
        ],
      ),
      '',
      `(b) / (a): ${fmt(nine.ratio)}×. Compactions at turns ${b.compactedAt.join(', ')} (per quarter of the session: ${b.compactionsPerQuarter.join(', ')}); the answer's input right after each: ${b.afterCompaction.map(fmt).join(', ')}. One turn adds ${fmt(a.meanGrowth)} tokens on average, ${fmt(a.maxGrowth)} at most.`,
      '',
      `Estimate vs the upstream's tokenizer (${estimate.source}): mean error ${fmt(estimate.meanError)} %, mean absolute ${fmt(estimate.meanAbsError)} %, max absolute ${fmt(estimate.maxAbsError)} % (${fmt(estimate.maxAbsErrorFrom1000Tokens)} % on prompts of 1,000+ tokens).`,
      '',
      table(
        [
          'turn of (a)',
          'upstream (Llama 3)',
          'estimate (o200k_base)',
          'error %',
          ...(estimate.samples.some((s) => s.endpoint !== undefined) ? ['input_tokens endpoint'] : []),
        ],
        estimate.samples.map((s) => [
          s.turn,
          s.upstream,
          s.estimate,
          s.error,
          ...(s.endpoint !== undefined ? [`${s.endpoint} (${s.endpointSource ?? '?'})`] : []),
        ]),
      ),
      '',
      table(
        ['text of the session', 'characters', 'o200k_base', 'Llama 3', 'error %'],
        Object.entries(estimate.byKind).map(([kind, k]) => [kind, k.chars, k.o200k, k.llama3, k.error]),
      ),
    );
  }
  const ten = f['10'];
  if (ten) {
    const label = /** @type {Record<string, string>} */ ({
      http: 'HTTP, store: false, the whole history',
      ws: 'WebSocket, store: false, connection cache',
      'http-chain': 'HTTP, store: true, previous_response_id',
      'ws-chain': 'WebSocket, store: true, previous_response_id',
    });
    const m = ten.memory;
    out.push('', `**10. WebSocket mode**: ${ten.description}`, '');
    out.push(
      table(
        [
          'series',
          'gateway CPU ms/turn',
          'p50 ms/turn',
          'turn 50 p50 ms',
          `sum of ${ten.turns} turns ms`,
          'client wrote (payload) bytes',
          'client wrote (wire) bytes',
          'client read (wire) bytes',
        ],
        Object.entries(ten.series).map(([k, x]) => [
          label[k] ?? k,
          x.cpuMsPerTurn,
          x.p50TurnMs,
          x.lastTurnP50Ms,
          x.sumOfTurnsMs,
          x.payloadBytes,
          x.wireBytesWritten,
          x.wireBytesRead,
        ]),
      ),
      '',
      `WebSocket / HTTP: store: false ${Object.entries(ten.ratios.storeFalse)
        .map(([k, v]) => `${k} ${fmt(v)}×`)
        .join(', ')}; store: true ${Object.entries(ten.ratios.storeTrue)
        .map(([k, v]) => `${k} ${fmt(v)}×`)
        .join(', ')}.`,
      '',
      `${m.sockets} idle sockets: heap ${fmt(m.heapPerSocketKiB)} KiB, external ${fmt(m.externalPerSocketKiB)} KiB, RSS ${fmt(m.rssPerSocketKiB)} KiB per socket; after closing them ${fmt(m.heapLeftPerSocketKiB)} KiB of heap + external per socket left (heap MiB ${JSON.stringify(m.heapUsedMiB)}, RSS MiB ${JSON.stringify(m.rssMiB)}).`,
    );
  }
  const what = /** @type {Record<string, string>} */ ({
    sync: 'ROLE=all, synchronous creates at concurrency 32',
    'sync-unstored': 'ROLE=all, synchronous creates with `store: false` at concurrency 32',
    stream: 'ROLE=all, streaming creates at concurrency 32',
    'background-api': 'ROLE=api, background creates (32 concurrent submitters)',
    'background-worker': 'ROLE=worker, running those background responses',
  });
  if (Object.keys(results.profiles).length) {
    out.push(
      '',
      'Profiles (`node --cpu-prof`; only the samples taken while the load ran). "Busy" is wall time the thread was not idle: on a',
      'crowded machine it includes time the thread was runnable but descheduled — typically right after a socket `writev` woke the',
      'process at the other end — which is why `writev` ranks high while the system CPU time per request (tables above) stays small.',
      'Time in Node itself and V8 builtins is charged to the package that called it.',
    );
  }
  for (const [kind, p] of Object.entries(results.profiles)) {
    out.push(
      '',
      `**Profile: ${what[kind] ?? kind}** (${p.requests} responses at ${p.rpsUnderProfiler}/s under the profiler; busy ${p.busyMs} ms of ${p.wallMs} ms; \`${p.file}\`)`,
      '',
    );
    out.push(
      table(
        ['package (with the Node and V8 time it caused)', 'ms', '% of busy'],
        p.byCallingPackage.slice(0, 10).map((r) => [r.package, r.ms, r.pctOfBusy]),
      ),
    );
    if (p.byStage?.length) {
      out.push('');
      out.push(
        table(
          ['stage (innermost on the stack; continuations after an await count as "other")', 'µs per response', '% of busy'],
          p.byStage.map((r) => [r.stage, r.usPerRequest ?? '', r.pctOfBusy]),
        ),
      );
    }
    out.push('');
    out.push(
      table(
        ['function', 'where', 'self ms', '% of busy'],
        p.topFunctions.slice(0, 12).map((r) => [`\`${r.function}\``, r.where, r.selfMs, r.pctOfBusy]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

module.exports = { markdown };
