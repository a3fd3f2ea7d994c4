// Memory under a long run of requests: starts `bitnet-wasm serve` (dist/cli.js) on 127.0.0.1 and
// sends N requests one after another (completions and chats, streamed and not, aborted streams,
// malformed bodies, /v1/models), reading the server's resident memory (VmRSS, Linux /proc) every
// `--every` requests. Flat memory = no per-request leak (JS heap, wasm memory, sockets, listeners).
//   node bench/serve-soak.mjs [--requests 2000] [--every 100] [--json]
// Needs dist/ (npm run build). Exits 1 if a request got an unexpected answer.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const N = opt('--requests', 2000), EVERY = opt('--every', 100), JSON_OUT = args.includes('--json');
const root = fileURLToPath(new URL('..', import.meta.url));

const server = spawn(process.execPath, ['dist/cli.js', 'serve', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((ok, fail) => {
  let out = '';
  server.stdout.on('data', (d) => { out += d; const m = /on (http:\/\/\S+)\/v1/.exec(out); if (m) ok(m[1]); });
  server.on('exit', (c) => fail(new Error(`serve exited (${c}): ${out}`)));
});
const rssMB = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) / 1024;

const post = (path, body, init = {}) => fetch(base + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
// One kind of request per step, in turn; each checks its answer.
const KINDS = [
  async (i) => { const r = await post('/v1/completions', { prompt: 'The jury said', max_tokens: 8, seed: i }); return r.status === 200 && (await r.json()).usage.completion_tokens === 8; },
  async (i) => { const r = await post('/v1/chat/completions', { messages: [{ role: 'user', content: `Hello ${i}` }], max_tokens: 8, seed: i, stream: true }); return r.status === 200 && (await r.text()).endsWith('data: [DONE]\n\n'); },
  async () => { const r = await post('/v1/chat/completions', '{"messages": [', { headers: { 'content-type': 'application/json' } }); return r.status === 400 && (await r.json()).error.code === 'invalid_json'; },
  async () => { // a client that leaves after the first chunk
    const ac = new AbortController();
    const r = await post('/v1/completions', { prompt: 'Once upon a time', max_tokens: 200, temperature: 0, stream: true }, { signal: ac.signal });
    const reader = r.body.getReader();
    await reader.read();
    ac.abort();
    await reader.read().catch(() => undefined);
    return r.status === 200;
  },
  async () => { const r = await fetch(`${base}/v1/models`); return r.status === 200 && (await r.json()).data.length === 1; },
  async () => { const r = await post('/v1/completions', { prompt: 'x', temperature: 'hot' }); return r.status === 400 && (await r.json()).error.param === 'temperature'; },
];

const samples = [{ requests: 0, rssMB: rssMB() }];
let bad = 0;
const t0 = performance.now();
for (let i = 1; i <= N; i++) {
  if (!(await KINDS[i % KINDS.length](i).catch(() => false))) bad++;
  if (i % EVERY === 0) samples.push({ requests: i, rssMB: rssMB() });
}
const seconds = (performance.now() - t0) / 1000;
// Let the aborted generations' counters settle, then read the server's own account.
await new Promise((r) => setTimeout(r, 200));
const health = await (await fetch(`${base}/health`)).json();
server.kill('SIGTERM');

const after = samples.filter((s) => s.requests >= Math.min(N, 5 * EVERY));
const growth = after.length > 1 ? after.at(-1).rssMB - after[0].rssMB : NaN;
const report = { requests: N, unexpected: bad, seconds, served: health.served, samples, rssGrowthAfterWarmupMB: growth, node: process.version };
if (JSON_OUT) console.log(JSON.stringify(report));
else {
  console.log(`${N} sequential requests in ${seconds.toFixed(1)} s, ${bad} unexpected answers; server counts ${JSON.stringify(health.served)}`);
  console.log('| requests | server RSS (MB) |\n|---:|---:|');
  for (const s of samples) console.log(`| ${s.requests} | ${s.rssMB.toFixed(1)} |`);
  console.log(`RSS growth from request ${after[0]?.requests} to ${N}: ${growth.toFixed(1)} MB`);
}
process.exit(bad ? 1 : 0);
