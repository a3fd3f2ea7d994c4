// `bitnet-wasm bench --runtime NAME`: the benchmark suite in another runtime, started the way the
// runtime matrix starts its conformance runs (runtimes.mjs, browsers.mjs, server.mjs, workerd.mjs).
//   node, deno, bun: the CLI (dist/cli.js) in that runtime, its JSON read back;
//   chromium, firefox: a page (bench-page.html) that imports build/bench/browser.js, model files
//     served over HTTP with COOP/COEP (cross-origin isolated: the finest timer), POSTs the run back;
//     in Chromium, wllama (@wllama/wllama, llama.cpp in wasm) beside it on the same files (wllama-page.html);
//   workerd: a Worker (bench-worker.mjs) that imports build/bench/workerd.js, the model files
//     embedded as data modules.
// A runtime that is not installed is a skip with its reason; nothing is estimated.
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, openAsBlob, statSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { cpus, release, platform, arch } from 'node:os';
import { basename, resolve } from 'node:path';
import { startServer } from './server.mjs';
import { freePort, startWorkerd, writeConfig } from './workerd.mjs';
import { NPM_BINARIES, ROOT, binaryVersion, browserVersion, findBrowser, run, runBrowserPage } from './runtimes.mjs';
import { BROWSERS, which } from './browsers.mjs';

const CLI = resolve(ROOT, 'dist/cli.js');
const BUNDLES = { chromium: 'build/bench/browser.js', firefox: 'build/bench/browser.js', workerd: 'build/bench/workerd.js' };
const WLLAMA = resolve(ROOT, 'test/node_modules/@wllama/wllama/esm');
/** Model files a Worker gets as embedded data modules at most (a Cloudflare Worker has 128 MB). */
const WORKER_MODEL_LIMIT = 64e6;
const HOUR = 3600e3;

/** A binary that is Node itself: Deno and Bun answer to `node` names too (both set
 *  process.versions.node, and Bun can put a `node` shim on the PATH). */
const isNode = (bin) => spawnSync(bin, ['-p', 'typeof Deno + typeof Bun'], { encoding: 'utf8', timeout: 30000 }).stdout?.trim() === 'undefinedundefined';

/** The Node to run the CLI in: this process's binary when this is Node, else the test packages'
 *  Node 24 or 22, else the PATH's; null when there is none. */
export function nodeBinary() {
  if (!globalThis.Deno && !globalThis.Bun) return process.execPath;
  return [NPM_BINARIES.node24(), NPM_BINARIES.node22(), which(['node'])].find((b) => b && isNode(b)) ?? null;
}

const CLI_RUNTIMES = {
  node: () => { const bin = nodeBinary(); return bin && { bin, args: [CLI] }; },
  deno: () => { const bin = NPM_BINARIES.deno(); return bin && { bin, args: ['run', '-A', CLI] }; },
  bun: () => { const bin = NPM_BINARIES.bun(); return bin && { bin, args: [CLI] }; },
};

/** The host's CPU, for runtimes that cannot see it (browsers, workerd): the same machine. */
function fillCpu(run) {
  const env = run.env;
  if (env.cpu === 'unknown') env.cpu = `${cpus()[0]?.model?.trim() ?? 'unknown'} (seen by the host)`;
  if (env.os === 'unknown') env.os = `${platform()} ${release()} ${arch()} (the host's)`;
  return run;
}

/** The runtime's name and version as the host knows them, in the run and each of its results. */
function named(run, runtime) {
  const was = run.env.runtime;
  run.env.runtime = runtime;
  for (const r of run.results) if (r.runtime === was) r.runtime = runtime;
  run.notes = run.notes.map((n) => n.split(was).join(runtime));
  return run;
}

/** The suite's options as a page or Worker gets them: JSON, models by URL or module name. */
const plainOptions = (options, models) => ({
  suites: options.suites, models, kernelModels: options.kernelModels, prompts: options.prompts, gens: options.gens, threads: options.threads,
  repetitions: options.repetitions, quick: options.quick, builds: options.builds, peers: false,
  command: options.command, packageName: options.packageName,
});

async function inCli(name, { childArgs, log }) {
  const rt = CLI_RUNTIMES[name]();
  if (!rt) return { skipped: `${name} is not installed (npm runtime in test/package.json: run \`node test/deps.mjs\`)` };
  if (!existsSync(CLI)) return { skipped: 'dist/cli.js is missing: run `npm run build`' };
  const r = await run(rt.bin, [...rt.args, ...childArgs], { timeoutMs: 2 * HOUR, onLine: (l) => log(`  ${l}`) });
  try { return { run: JSON.parse(r.stdout) }; } catch { throw new Error(`${name} exited ${r.status} without a run: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`); }
}

async function inBrowser(name, { options, log }) {
  const bin = findBrowser(name);
  if (!bin) return { skipped: `${name} is not installed (${BROWSERS[name].install})` };
  if (!existsSync(resolve(ROOT, BUNDLES[name]))) return { skipped: `${BUNDLES[name]} is missing: run \`npm run build\`` };
  const files = Object.fromEntries(options.models.map((m, i) => [`/models/${i}-${basename(m.file)}`, m.file]));
  const urls = Object.keys(files);
  const server = await startServer({ root: ROOT, allow: ['/build/bench/', '/test/runtimes/', '/test/node_modules/@wllama/wllama/esm/', '/test/node_modules/@wllama/wllama/package.json'], files });
  try {
    const version = await browserVersion(bin);
    const o = plainOptions(options, options.models.map((m, i) => ({ ...m, file: `${server.url}${urls[i]}` })));
    log(`${name} ${version}: ${server.url}/test/runtimes/bench-page.html`);
    const run = await runBrowserPage(name, bin, server, `/test/runtimes/bench-page.html?o=${encodeURIComponent(JSON.stringify(o))}`, { timeoutMs: 2 * HOUR });
    if (run.fatal) throw new Error(run.fatal);
    named(fillCpu(run), `${name} ${version}`); // the binary's full version (user agents say 142.0.0.0)
    if (name === 'chromium' && options.peers && options.suites.includes('e2e')) {
      const w = await wllamaPeer(bin, server, o, options, run, log);
      run.results.push(...w.results);
      run.notes.push(...w.notes);
    }
    return { run };
  } finally {
    await server.close();
  }
}

/** wllama in Chromium on the same files, at the peers' thread counts (run.ts peerThreads). */
async function wllamaPeer(bin, server, o, options, run, log) {
  if (!existsSync(resolve(WLLAMA, 'index.js'))) return { results: [], notes: ['wllama (@wllama/wllama): skipped, not installed (node test/deps.mjs installs test/package.json)'] };
  const results = [], notes = [];
  const lib = await import(pathToFileURL(resolve(ROOT, 'dist/index.js')).href);
  const { LLAMA_CPP_TYPES, peerThreads } = await import(pathToFileURL(resolve(ROOT, BUNDLES.chromium)).href);
  const threads = peerThreads(o.threads, run.env.cores, o.quick); // the rule native llama.cpp follows too
  for (const m of o.models) {
    if (m.type && !LLAMA_CPP_TYPES.includes(m.type)) { notes.push(`wllama (@wllama/wllama) on ${m.name}: skipped, upstream llama.cpp does not read ${m.type} (bitnet.cpp's type)`); continue; }
    log(`wllama in chromium: ${m.name}`);
    // Its server fails on text that is not UTF-8 (a random model emits byte tokens), so generation
    // is biased to the token of " the", read with this library's tokenizer (llama.cpp's): decode
    // costs the same whichever token is fed.
    const path = options.models.find((x) => x.name === m.name).file;
    const metadata = Object.fromEntries([...(await lib.parseGGUFHeader(await openAsBlob(path))).metadata].map(([k, v]) => [k, v.value]));
    const ids = lib.createTokenizer(metadata).encode(' the', { addBos: false });
    const r = await runBrowserPage('chromium', bin, server, `/test/runtimes/wllama-page.html?o=${encodeURIComponent(JSON.stringify({ ...o, models: [m], threads, token: ids[ids.length - 1] }))}`, { timeoutMs: HOUR });
    if (r.fatal) { notes.push(`wllama (@wllama/wllama) on ${m.name}: failed, ${r.fatal.split('\n')[0]}`); continue; }
    results.push(...r.results.map((x) => ({ ...x, runtime: x.runtime.replace(/^chromium/, run.env.runtime) })));
    notes.push(...r.notes);
  }
  return { results, notes };
}

/** POST body to url and read the whole answer, waiting up to timeoutMs for it. Not fetch(): its
 *  client gives up on a response whose headers take over 5 minutes (undici's headersTimeout, "fetch
 *  failed"), and the Worker answers only when the whole suite has run (6+ minutes for --suite all). */
function post(url, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs / 60e3} minutes`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function inWorkerd(name, { options, log }) {
  const bin = NPM_BINARIES.workerd();
  if (!bin) return { skipped: 'workerd is not installed (npm runtime in test/package.json: run `node test/deps.mjs`)' };
  if (!existsSync(resolve(ROOT, BUNDLES.workerd))) return { skipped: `${BUNDLES.workerd} is missing: run \`npm run build\`` };
  const version = (await binaryVersion(bin)).replace(/^workerd\s*/, '');
  const fits = options.models.filter((m) => statSync(m.file).size <= WORKER_MODEL_LIMIT);
  const notes = options.models.filter((m) => !fits.includes(m)).map((m) => `workerd: e2e/load on ${m.name} skipped, the file is over ${WORKER_MODEL_LIMIT / 1e6} MB (a Worker gets it as an embedded module; Cloudflare gives a Worker 128 MB)`);
  const suites = fits.length ? options.suites : options.suites.filter((s) => s !== 'e2e' && s !== 'load');
  if (!suites.length) return { skipped: notes.join('; ') };
  // workerd compiles no wasm bytes at run time: the bandwidth probe goes in as a compiled module.
  const { probeWasm } = await import(pathToFileURL(resolve(ROOT, BUNDLES.chromium)).href);
  writeFileSync(resolve(ROOT, 'build/bench/probe.wasm'), probeWasm());
  const port = await freePort();
  const configPath = resolve(ROOT, 'build/runtimes/bench.capnp');
  writeConfig({
    configPath, port, modules: [
      { name: 'test/runtimes/bench-worker.mjs', type: 'esModule', file: resolve(ROOT, 'test/runtimes/bench-worker.mjs') },
      { name: 'build/bench/workerd.js', type: 'esModule', file: resolve(ROOT, BUNDLES.workerd) },
      { name: 'build/bench/bitnet-simd128.wasm', type: 'wasm', file: resolve(ROOT, 'build/bitnet-simd128.wasm') },
      { name: 'build/bench/bitnet-relaxed.wasm', type: 'wasm', file: resolve(ROOT, 'build/bitnet-relaxed.wasm') },
      { name: 'build/bench/probe.wasm', type: 'wasm', file: resolve(ROOT, 'build/bench/probe.wasm') },
      ...fits.map((m, i) => ({ name: `models/${i}.gguf`, type: 'data', file: m.file })),
    ],
  });
  const w = await startWorkerd({ workerd: bin, configPath, port });
  try {
    log(`workerd ${version}`);
    const o = { ...plainOptions(options, fits.map((m, i) => ({ ...m, file: `../../models/${i}.gguf` }))), suites };
    const res = await post(`${w.url}/`, JSON.stringify(o), 2 * HOUR);
    const text = res.text;
    let run;
    try { run = JSON.parse(text); } catch { throw new Error(`HTTP ${res.status}: ${text.slice(0, 500)} ${w.output().slice(-500)}`); }
    if (run.fatal) throw new Error(run.fatal);
    run.notes.push(...notes);
    return { run: named(fillCpu(run), `workerd ${version}`) };
  } finally {
    w.stop();
  }
}

const HOSTS = { node: inCli, deno: inCli, bun: inCli, chromium: inBrowser, firefox: inBrowser, workerd: inWorkerd };

/** Runs the suite in runtime `name`: { run } or { skipped: why }. Throws when it ran and failed. */
export async function benchIn(name, o) {
  const host = HOSTS[name];
  if (!host) return { skipped: `no host for runtime ${name}` };
  return host(name, o);
}
