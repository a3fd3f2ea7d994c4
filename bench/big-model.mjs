// Loads a big model (default: the 2B4T shape at its trained context 4096) in Node 20 (this Node),
// Node 24, Deno, Bun, headless Chromium and Firefox, generates a few greedy tokens in each, and
// prints load time, GB/s, wasm memory against `info`'s estimate and the tokens (which must agree).
// Not part of `npm test`: the 1.2 GB file takes a minute to write and each load a few seconds.
//
//   node bench/big-model.mjs [FILE] [--ctx 4096|default] [-n 4] [--only node20,node24,deno,bun,chromium,firefox]
//
// Needs dist/ (npm run build) and the test runtimes (node test/deps.mjs). Without FILE, writes
// /tmp/bitnet-wasm-2b4t.gguf with make-model --preset 2b4t (kept for the next run).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer } from '../test/runtimes/server.mjs';
import { NPM_BINARIES, ROOT, findBrowser, run, runBrowserPage } from '../test/runtimes/runtimes.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const ctx = opt('--ctx', '4096') === 'default' ? 0 : Number(opt('--ctx', 4096)); // 0: loadModel's default context
const n = Number(opt('-n', 4));
const only = opt('--only', 'node20,node24,deno,bun,chromium,firefox').split(',');
let file = argv.find((a, i) => !a.startsWith('-') && !(i > 0 && argv[i - 1].startsWith('-')));
if (!file) {
  file = '/tmp/bitnet-wasm-2b4t.gguf';
  if (!existsSync(file)) {
    console.log(`writing ${file} (make-model --preset 2b4t) ...`);
    const r = spawnSync(process.execPath, [resolve(ROOT, 'dist/cli.js'), 'make-model', '--preset', '2b4t', '-o', file, '-q'], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(1);
  }
}
file = resolve(file);
console.log(`${file}: ${(statSync(file).size / 1e9).toFixed(2)} GB, context ${ctx || 'default'}, ${n} greedy tokens`);

const HOST = resolve(ROOT, 'bench/big-model/host.mjs');
const results = [];
const cli = async (bin, pre = []) => {
  const r = await run(bin, [...pre, HOST, file, String(ctx), String(n)], { timeoutMs: 900000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('BIG_RESULT '));
  return line ? JSON.parse(line.slice(11)) : { fatal: `exit ${r.status}: ${(r.stderr || r.stdout).slice(-2000)}` };
};
for (const name of only) {
  let rep;
  if (name === 'node20') rep = await cli(process.execPath);
  else if (NPM_BINARIES[name]) {
    const bin = NPM_BINARIES[name]();
    rep = bin ? await cli(bin, name === 'deno' ? ['run', '--allow-read', '--allow-env'] : []) : { fatal: `${name} is not installed (node test/deps.mjs)` };
  } else {
    const bin = findBrowser(name);
    if (!bin) rep = { fatal: `${name} is not installed` };
    else {
      const server = await startServer({ root: ROOT, allow: ['/dist/', '/bench/'], files: { '/model.gguf': file } });
      try { rep = await runBrowserPage(name, bin, server, `/bench/big-model/page.html?ctx=${ctx}&n=${n}`, { timeoutMs: 900000 }); } finally { await server.close(); }
    }
  }
  results.push({ name, ...rep });
  const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  console.log(rep.fatal ? `FAIL ${name}: ${rep.fatal}`
    : `ok   ${name.padEnd(8)} ${rep.runtime.padEnd(22)} ${rep.build.padEnd(7)} ${rep.kernel.padEnd(11)} ctx ${rep.contextLength} load ${(rep.loadMs / 1000).toFixed(2)} s `
      + `(${rep.fileGBps} GB/s)  wasm memory ${mib(rep.wasmBytes)} (info ${mib(rep.estimateBytes)}, ${((rep.wasmBytes / rep.estimateBytes - 1) * 100).toFixed(1)}%)  `
      + (rep.rssBytes ? `RSS ${mib(rep.rssBytes)}  ` : '')
      + `tokens ${rep.tokens.join(',')}  ${rep.decodeTokensPerSecond} tok/s`);
}
const ok = results.filter((r) => !r.fatal);
const same = ok.every((r) => r.tokens.join() === ok[0]?.tokens.join());
console.log(`\n${ok.length} of ${results.length} runtimes loaded and generated; tokens ${same ? 'identical' : 'DIFFER'}`);
process.exit(ok.length === results.length && same ? 0 : 1);
