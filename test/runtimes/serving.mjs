// Serving checks, run by matrix.mjs: the official `openai` client (test/runtimes/openai-client.mjs,
// on Node 24) against the OpenAI-compatible handler served four ways on 127.0.0.1, each on a free
// port: `bitnet-wasm serve` (Node's http, the machine's Node), Deno.serve and Bun.serve
// (serve-host.mjs), and the Cloudflare Worker example under workerd. Every server must pass the
// same client checks and give the same seeded texts, equal to the library's own generate().
import { killGroup, spawnGroup } from './children.mjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { NPM_BINARIES, ROOT, run } from './runtimes.mjs';
import { freePort, startWorkerd } from './workerd.mjs';

/** Starts a server process that prints its URL; resolves { url, stop, output }. */
function startProcess(cmd, args, pattern, timeoutMs = 60000) {
  const child = spawnGroup(cmd, args, { cwd: ROOT });
  let output = '';
  const stop = () => killGroup(child, 'SIGTERM');
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => { stop(); fail(new Error(`no URL within ${timeoutMs} ms:\n${output}`)); }, timeoutMs);
    const onData = (d) => {
      output += d;
      const m = pattern.exec(output);
      if (m) { clearTimeout(timer); ok({ url: m[1], stop, output: () => output }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => { output += d; });
    child.on('exit', (code, sig) => { clearTimeout(timer); fail(new Error(`exited (${code ?? sig}) before listening:\n${output}`)); });
  });
}

const SERVERS = {
  'node (bitnet-wasm serve)': () => startProcess(process.execPath, ['dist/cli.js', 'serve', '--port', '0', '--max-queue', '8'], /on (http:\/\/127\.0\.0\.1:\d+)\/v1/),
  'deno (Deno.serve)': () => {
    const deno = NPM_BINARIES.deno();
    return deno ? startProcess(deno, ['run', '--allow-read', '--allow-net', 'test/runtimes/serve-host.mjs', '--max-queue', '8'], /SERVING (\S+)/) : null;
  },
  'bun (Bun.serve)': () => {
    const bun = NPM_BINARIES.bun();
    return bun ? startProcess(bun, ['test/runtimes/serve-host.mjs', '--max-queue', '8'], /SERVING (\S+)/) : null;
  },
  'workerd (Cloudflare Worker example)': async () => {
    const workerd = NPM_BINARIES.workerd();
    if (!workerd) return null;
    const built = await run(process.execPath, ['examples/cloudflare-worker/build.mjs'], { timeoutMs: 120000 });
    if (built.status !== 0) throw new Error(`examples/cloudflare-worker/build.mjs failed: ${built.stderr.slice(-800)}`);
    const port = await freePort();
    return startWorkerd({ workerd, configPath: resolve(ROOT, 'examples/cloudflare-worker/config.capnp'), port, args: ['--socket-addr', `http=127.0.0.1:${port}`] });
  },
};

export async function runServingChecks({ check, skip }) {
  const results = {};
  const node24 = NPM_BINARIES.node24() ?? NPM_BINARIES.node22();
  let openaiVersion = null;
  try {
    const main = createRequire(resolve(ROOT, 'test/runtimes/openai-client.mjs')).resolve('openai'); // (its exports hide package.json)
    openaiVersion = JSON.parse(readFileSync(resolve(dirname(main), 'package.json'), 'utf8')).version;
  } catch { /* below */ }
  if (!node24 || !openaiVersion) {
    check(false, 'the openai client and Node >= 22 for the serving checks', `node24: ${node24 ?? 'missing'}, openai: ${openaiVersion ?? 'missing'} (npm test installs test/package.json)`);
    return results;
  }
  // The library's own answer for the client's seeded completion (openai-client.mjs: textParams).
  const lib = await import(resolve(ROOT, 'dist/index.js'));
  const model = await lib.loadModel(new Uint8Array(readFileSync(resolve(ROOT, 'models/default.gguf'))));
  const reference = (await model.generate('The jury said', { maxTokens: 24, temperature: 0.8, topP: 0.9, seed: 7 })).text;
  model.dispose();

  for (const [name, start] of Object.entries(SERVERS)) {
    let server = null;
    try {
      server = await start();
      if (!server) { skip(`serving with ${name}`, 'its runtime is not installed: run `node test/deps.mjs`'); continue; }
      const r = await run(node24, [resolve(ROOT, 'test/runtimes/openai-client.mjs'), server.url], { timeoutMs: 240000 });
      const line = r.stdout.split('\n').find((l) => l.startsWith('OPENAI_CLIENT_RESULT '));
      if (!line) { check(false, `openai ${openaiVersion} client against ${name}`, `no result (exit ${r.status}): ${(r.stderr || r.stdout).slice(-1500)}`); continue; }
      const res = JSON.parse(line.slice('OPENAI_CLIENT_RESULT '.length));
      for (const c of res.checks) check(c.ok, `openai ${openaiVersion} client against ${name}: ${c.name}`, c.detail);
      results[name] = res.texts;
    } catch (e) {
      check(false, `serving with ${name}`, `${e.message}\n${server?.output?.().slice(-1500) ?? ''}`);
    } finally {
      server?.stop();
    }
  }
  // A short run of bench/serve-soak.mjs (2,000 requests there by default): sequential requests of
  // every kind against `serve`, each with its expected answer, and the server's own counts after.
  const soak = await run(process.execPath, [resolve(ROOT, 'bench/serve-soak.mjs'), '--requests', '300', '--every', '50', '--json'], { timeoutMs: 120000 });
  let s = null;
  try { s = JSON.parse(soak.stdout.trim().split('\n').at(-1)); } catch { /* below */ }
  results.soak = s;
  // Every 6th request is a completion, a chat, an aborted stream: 300 requests = 50 + 50 completed, 50 cancelled.
  check(s && s.unexpected === 0 && s.served.completed === 100 && s.served.cancelled === 50 && s.served.failed === 0 && s.rssGrowthAfterWarmupMB < 50,
    `300 sequential requests against serve (completions, chats, aborted streams, malformed): every answer as expected, RSS ${s?.samples?.map((x) => x.rssMB.toFixed(0)).join(' -> ')} MB`,
    `exit ${soak.status}: ${soak.stdout.slice(-800)} ${soak.stderr.slice(-800)}`);

  const all = Object.entries(results).filter(([n]) => n !== 'soak');
  if (all.length) {
    const [first, t0] = all[0];
    const same = all.every(([, t]) => JSON.stringify(t) === JSON.stringify(t0));
    check(same && t0.completion === reference, `every server gives the same seeded texts (${all.map(([n]) => n.split(' ')[0]).join(', ')}), and the completion equals the library's generate()`,
      JSON.stringify({ reference, ...Object.fromEntries(all.map(([n, t]) => [n, t])) }).slice(0, 1500) + ` (first: ${first})`);
  }
  return results;
}
