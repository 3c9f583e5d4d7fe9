'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: `node bench/run.js` runs as is, with no build step */
/** Figure 6: replaying the 10,000 stored events of a finished background stream on another API process. */
const procs = require('../procs');
const { median, parseJson } = require('../client');
const { log, round, waitUntil } = require('../measure');

const EVENTS = 10_000;

/** @type {import('../context').Figure} */
module.exports = {
  fig: '6',
  name: 'Resume',
  uses: ['background'],
  redis: true,
  targets: [{ key: 'rate', metric: `replay rate (${EVENTS.toLocaleString('en')} events)`, unit: ' events/s', op: null, limit: null }],
  async run(ctx) {
    const { S, bodies } = ctx;
    const bg = await ctx.background();
    await ctx.worker();
    const events = EVENTS;
    log(`figure 6: a background stream of ${events} deltas, replayed on api-b`);
    let id = '';
    await bg.a.stream(
      'POST',
      '/v1/responses',
      { model: `bench-n${events}`, input: bodies.PROMPT, background: true, stream: true },
      {
        stop: (type, data) => {
          if (type !== 'response.created') return false;
          id = /** @type {{ response: { id: string } }} */ (parseJson(data)).response.id;
          return true; // going away stops only this reading, never the response
        },
      },
    );
    await waitUntil('the 10,000-delta response to complete', async () => (await bg.a.json('GET', `/v1/responses/${id}`)).status === 'completed', 180_000, 200);
    // How long the worker took to produce them live (the row's own timestamps, ms precision).
    const [timing] = /** @type {Array<{ seconds: number }>} */ (
      await bg.watcher.query('SELECT extract(epoch FROM completed_at - created_at)::float8 AS seconds FROM responses WHERE id = $1', [id])
    );
    const generatedS = timing.seconds;
    const all = await bg.b.stream('GET', `/v1/responses/${id}?stream=true`, undefined);
    const after = all.events - 1 - events; // replay exactly `events` events
    if (after < 0 || all.lastType !== 'response.completed') throw new Error(`the full replay had ${all.events} events, ending with ${all.lastType}`);
    const rates = [];
    const cpuPer1000 = [];
    for (let r = 0; r < S.replays; r++) {
      const meter = await procs.cpuMeter([bg.apiB]).start();
      const replay = await bg.b.stream('GET', `/v1/responses/${id}?stream=true&starting_after=${after}`, undefined);
      const cpu = await meter.read();
      if (replay.events !== events || replay.lastType !== 'response.completed')
        throw new Error(`replay ${r}: ${replay.events} events, last ${replay.lastType}`);
      rates.push(events / (replay.totalMs / 1000));
      cpuPer1000.push((cpu['api-b'].ms * 1000) / events);
    }
    const r = {
      events,
      replays: S.replays,
      eventsPerSecond: round(median(rates), 0),
      replayMs: round((events / median(rates)) * 1000, 1),
      apiCpuMsPer1000Events: round(median(cpuPer1000), 1),
      liveGenerationSeconds: round(generatedS, 2),
      liveEventsPerSecond: round(all.events / generatedS, 0),
    };
    return {
      details: {
        description: `GET ?stream=true&starting_after=N on another API process, replaying ${events} stored events of a finished background stream`,
        ...r,
      },
      measured: { rate: r.eventsPerSecond },
    };
  },
};
