const procs = require('./procs'); const { Client, percentile } = require('./client'); const db = require('./db');
(async () => {
  const up = await procs.startUpstream();
  const database = await db.createDatabase('ttq');
  const env = { INFERENCE_BASE_URL: `${up.url}/v1`, LOG_LEVEL: 'warn', DATABASE_URL: database.url, REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_PREFIX: 'rgttq' + process.pid, ROLE: 'api', ...JSON.parse(process.argv[2] || '{}') };
  const api = await procs.startGateway('api', env);
  const c = new Client(api.url, { maxSockets: 1 });
  const t = { q: [], h: [], s: [] };
  for (let i = 0; i < 600; i++) {
    const a = await c.request('POST', '/v1/responses', { model: 'bench', input: 'Say hello.', background: true });
    const b = await c.request('GET', '/health/live');
    const s = await c.request('POST', '/v1/responses', { model: 'bench-n1', input: 'Say hello.', store: false });
    if (i >= 100) { t.q.push(a.ms); t.h.push(b.ms); t.s.push(s.ms); }
  }
  console.log('bg create p50', percentile(t.q, 50).toFixed(3), 'health', percentile(t.h, 50).toFixed(3), 'sync store:false', percentile(t.s, 50).toFixed(3));
  c.close(); await api.stop('SIGKILL'); await up.stop('SIGKILL'); await db.cleanRedis({ prefix: env.QUEUE_PREFIX }); await db.dropAll(); process.exit(0);
})().catch(async (e) => { console.error(e); await db.dropAll(); process.exit(1); });
