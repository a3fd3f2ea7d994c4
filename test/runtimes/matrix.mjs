// The runtime matrix: runs the conformance set (conformance/cases.mjs) in Node 20 (this process's
// Node), Node 22 and 24, Deno, Bun, workerd (all from npm), headless Chromium and Firefox ESR (the
// system's), each on both wasm builds, and checks that every hash equals conformance/expected.json.
// Then the fallback checks (an engine without SIMD gets NO_SIMD; without relaxed SIMD the simd128
// build with the same bits), the worker model in the browsers (test/runtimes/worker-proxy.mjs), the
// packaging check and the examples (test/runtimes/examples.mjs).
//
//   node test/runtimes/matrix.mjs [--update] [--only node20,deno,...,fallback,worker,examples,serving,bench] [--no-examples] [--no-serving] [--no-bench]
//
// Needs dist/ (npm run build). A runtime or check that cannot run (a browser not installed) is
// counted as skipped and makes the exit status non-zero; BITNET_REQUIRE_ALL_RUNTIMES=1 counts it as a
// failure instead. A missing conformance/expected.json fails unless --update is given.
// Writes test-artifacts/runtime-matrix.json; its last line is "runtime matrix: N passed, N failed, N skipped".
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { descendants, processTable, spawnGroup } from './children.mjs';
import { startServer } from './server.mjs';
import { ensureTestDeps } from '../deps.mjs';
import { BROWSERS, NPM_BINARIES, ROOT, binaryVersion, browserVersion, findBrowser, run, runBrowserPage, runCli, runWorkerd } from './runtimes.mjs';

const argv = process.argv.slice(2);
const UPDATE = argv.includes('--update');
const ONLY = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : null;
const REQUIRE_ALL = process.env.BITNET_REQUIRE_ALL_RUNTIMES === '1';
const EXPECTED = resolve(ROOT, 'conformance/expected.json');
const ARTIFACTS = resolve(ROOT, 'test-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

ensureTestDeps(); // the npm runtimes live in test/package.json
const t0 = Date.now();
let passed = 0, failed = 0, skipped = 0;
const failures = [], skips = [];
const check = (ok, what, detail = '') => {
  if (ok) passed++;
  else { failed++; failures.push(`${what}${detail ? `: ${detail}` : ''}`); }
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? ` -- ${detail}` : ''}`);
  return ok;
};
const loud = (msg) => console.log(`\n!!!!!!!!!!\n!!! ${msg}\n!!!!!!!!!!\n`);
// Something that could not run: counted, loud, never a pass (a failure under REQUIRE_ALL).
const skip = (what, why) => {
  if (REQUIRE_ALL) return check(false, `${what} (BITNET_REQUIRE_ALL_RUNTIMES=1)`, why);
  skipped++; skips.push(`${what}: ${why}`);
  loud(`SKIP ${what}: ${why}`);
  return false;
};

for (const f of ['dist/index.js', 'dist/browser.js', 'dist/workerd.js', 'dist/bitnet-simd128.wasm', 'dist/bitnet-relaxed.wasm']) {
  if (!existsSync(resolve(ROOT, f))) {
    console.log(`FAIL ${f} is missing: run \`npm run build\` first`);
    console.log('\nruntime matrix: 0 passed, 1 failed, 0 skipped');
    process.exit(1);
  }
}

// ---- the runtimes -------------------------------------------------------------------------
const server = await startServer({ root: ROOT });

const want = (name) => !ONLY || ONLY.includes(name);
const runtimes = []; // { name, version, run: () => report } | { name, skipped }
// Every runtime also runs the set with THREADS threads (more than this machine's 2 cores): the same
// hashes, with workers where the runtime has them (THREADED) and 1 thread elsewhere (workerd).
// Browsers: a page's main thread may not wait on workers, so threads run in the `-worker` rows
// (the set in a dedicated worker of the COOP/COEP page, with 2, 3 and 4 threads).
const THREADS = 3;
const THREADED = new Set(['node20', 'node22', 'node24', 'deno', 'bun', 'chromium-worker', 'firefox-worker']);
if (want('node20')) runtimes.push({ name: `node${process.versions.node.split('.')[0]}`, version: process.versions.node, run: () => runCli('node', process.execPath, { threads: [THREADS] }) });
for (const n of ['node22', 'node24', 'deno', 'bun', 'workerd']) {
  if (!want(n)) continue;
  const bin = NPM_BINARIES[n]();
  if (!bin) { runtimes.push({ name: n, missing: `npm runtime ${n} is not installed: run \`node test/deps.mjs\`` }); continue; }
  if (n === 'workerd') {
    const v = (await binaryVersion(bin)).replace(/^workerd\s*/, '');
    runtimes.push({ name: n, version: v, run: () => runWorkerd(bin, v, { threads: [THREADS] }) });
  } else {
    const v = (await binaryVersion(bin)).replace(/^(v|deno\s+)/, '').replace(/\s.*$/, '');
    runtimes.push({ name: n, version: v, bin, run: () => runCli(n === 'deno' ? 'deno' : 'node', bin, { threads: [THREADS] }) });
  }
}
for (const b of ['chromium', 'firefox']) {
  if (!want(b)) continue;
  const bin = findBrowser(b);
  if (!bin) { runtimes.push({ name: b, skipped: `${b} is not installed, so it is NOT tested. Install it with: ${BROWSERS[b].install}` }); continue; }
  const v = await browserVersion(bin);
  runtimes.push({ name: b, version: v, bin, run: () => runBrowserPage(b, bin, server, '/conformance/hosts/browser.html') });
  // In a dedicated worker of the (COOP/COEP) page: where threads run in a browser.
  if (want(`${b}-worker`)) runtimes.push({ name: `${b}-worker`, version: v, bin, run: () => runBrowserPage(b, bin, server, '/conformance/hosts/browser.html?worker=1') });
  // The same worker in a page without COOP/COEP: no SharedArrayBuffer, so 2-4 threads asked run on 1.
  if (want(`${b}-worker-noiso`)) runtimes.push({ name: `${b}-worker-noiso`, version: v, bin, run: async () => runBrowserPage(b, bin, await noIsolation(), '/conformance/hosts/browser.html?worker=1') });
}
// A second server, without cross-origin isolation (started when a row needs it).
let noIso = null;
const noIsolation = async () => {
  noIso ??= await startServer({ root: ROOT, coi: false });
  return noIso;
};

const reports = [];
for (const r of runtimes) {
  if (r.missing) { skip(`${r.name} (both builds)`, r.missing); reports.push({ name: r.name, skipped: r.missing }); continue; }
  if (r.skipped) {
    skip(`${r.name} (both builds)`, r.skipped);
    reports.push({ name: r.name, skipped: r.skipped });
    continue;
  }
  const s = Date.now();
  process.stdout.write(`running the conformance set in ${r.name} ${r.version} ... `);
  const rep = await r.run();
  rep.wallMs = Date.now() - s;
  console.log(`${rep.wallMs} ms`);
  reports.push({ name: r.name, version: r.version, report: rep });
}

// ---- compare ------------------------------------------------------------------------------
let expected = existsSync(EXPECTED) ? JSON.parse(readFileSync(EXPECTED, 'utf8')) : null;
const complete = reports.filter((r) => r.report?.builds?.simd128?.hashes);
if (UPDATE || !expected) {
  const ref = complete.find((r) => r.report.builds.relaxed?.hashes) ?? complete[0];
  if (!ref) {
    check(false, 'some runtime produced conformance hashes', 'none did, so there is nothing to compare');
    console.log(`runtime matrix: ${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.exit(1);
  }
  const h = ref.report.builds.simd128.hashes;
  const pinned = { note: 'SHA-256 of each conformance output; every runtime and build must give these. Regenerate with `node test/runtimes/matrix.mjs --update` only when a numerics change is intended.', hashes: h };
  if (UPDATE) {
    writeFileSync(EXPECTED, JSON.stringify(pinned, null, 2) + '\n');
    console.log(`wrote ${EXPECTED} from ${ref.name} ${ref.version} simd128`);
  } else {
    // Never re-pin silently: the runtimes are still compared with each other below.
    check(false, 'conformance/expected.json is pinned', `it is missing; runtimes compared with ${ref.name} ${ref.version} only. Pin it with \`npm test -- --update\` (only when a numerics change is intended)`);
  }
  expected = pinned;
}
const combined = (hashes) => createHash('sha256').update(Object.keys(hashes).sort().map((k) => `${k}=${hashes[k]}`).join('\n')).digest('hex');
const expectedCombined = combined(expected.hashes);

// Node 20 has no relaxed SIMD (it is documented as falling back); every other runtime here has it.
const NO_RELAXED = new Set(['node20']);
const rows = [];
for (const r of reports) {
  if (r.skipped) { rows.push([r.name, '-', 'both', 'SKIPPED (not installed)', 'skip']); continue; }
  const rep = r.report;
  if (rep.fatal || rep.initError) {
    const msg = rep.fatal ?? `${rep.initError.code}: ${rep.initError.message}`;
    check(false, `${r.name} ${r.version} ran the conformance set`, msg);
    rows.push([r.name, r.version, 'both', 'ERROR', 'FAIL']);
    continue;
  }
  for (const build of ['simd128', 'relaxed']) {
    const b = rep.builds[build];
    if (b?.unavailable) {
      const ok = NO_RELAXED.has(r.name) && build === 'relaxed' && rep.selected === 'simd128' && rep.notes.length > 0;
      check(ok, `${r.name} ${build}: ${ok ? 'unavailable as expected; init() fell back to simd128 with a note' : 'build unavailable'}`, ok ? '' : b.unavailable);
      rows.push([r.name, r.version, build, `n/a -> simd128 (${b.unavailable.replace(/^.*?: /, '').slice(0, 60)}...)`, ok ? 'pass' : 'FAIL']);
      continue;
    }
    if (!b?.hashes) {
      check(false, `${r.name} ${r.version} ${build}`, b?.error ?? 'no result');
      rows.push([r.name, r.version, build, 'ERROR', 'FAIL']);
      continue;
    }
    const bad = Object.keys(expected.hashes).filter((k) => b.hashes[k] !== expected.hashes[k]);
    const extra = Object.keys(b.hashes).filter((k) => !(k in expected.hashes));
    const ok = bad.length === 0 && extra.length === 0 && b.errors.length === 0;
    check(ok, `${r.name} ${r.version} ${build}: all ${Object.keys(expected.hashes).length} case hashes equal conformance/expected.json`,
      [...bad.map((k) => `case "${k}" gave ${String(b.hashes[k]).slice(0, 16)} expected ${expected.hashes[k].slice(0, 16)}`), ...extra.map((k) => `unexpected case "${k}"`), ...b.errors].join('; '));
    rows.push([r.name, r.version, build, combined(b.hashes).slice(0, 16), ok ? 'pass' : 'FAIL']);
  }
  // The same set on more threads (runtimes that ran it: the CLI hosts and workerd with THREADS,
  // the browsers' worker host with 2, 3 and 4).
  for (const [count, threaded] of Object.entries(rep.threaded ?? {})) {
    const n = Number(count), ran = THREADED.has(r.name) ? n : 1;
    for (const build of ['simd128', 'relaxed']) {
      const b = threaded[build];
      if (b?.unavailable && NO_RELAXED.has(r.name) && build === 'relaxed') continue;
      const bad = b?.hashes ? Object.keys(expected.hashes).filter((k) => b.hashes[k] !== expected.hashes[k]) : ['(no result)'];
      const ok = !!b?.hashes && bad.length === 0 && b.errors.length === 0 && b.threads === ran;
      check(ok, `${r.name} ${r.version} ${build}, ${n} threads asked: ran on ${ran}${ran === 1 ? ' (no workers here)' : ''}, the same ${Object.keys(expected.hashes).length} case hashes`,
        b?.hashes ? [`ran on ${b.threads}`, ...bad.map((k) => `case "${k}" differs`), ...b.errors].join('; ') : (b?.error ?? b?.unavailable ?? 'no result'));
      rows.push([r.name, r.version, `${build}, ${n} threads (${b?.threads ?? '?'} ran)`, b?.hashes ? combined(b.hashes).slice(0, 16) : 'ERROR', ok ? 'pass' : 'FAIL']);
    }
  }

  const expectSel = NO_RELAXED.has(r.name) ? 'simd128' : 'relaxed';
  check(rep.selected === expectSel, `${r.name}: init() selects ${expectSel}`, `selected ${rep.selected}; notes: ${rep.notes.join('; ')}`);
}

// ---- fallbacks ------------------------------------------------------------------------------
const fallback = [];
if (want('fallback')) {
  const bun = NPM_BINARIES.bun();
  if (!bun) skip('fallbacks under bun (no SIMD, no relaxed SIMD)', 'bun is not installed: run `node test/deps.mjs`');
  if (bun) {
    // A real engine without wasm SIMD: Bun with JavaScriptCore's SIMD switched off.
    const noSimd = await runCli('bun', bun, { env: { BUN_JSC_useWasmSIMD: '0' } });
    check(noSimd.initError?.code === 'NO_SIMD' && Object.keys(noSimd.builds ?? {}).length === 0,
      'bun without wasm SIMD (BUN_JSC_useWasmSIMD=0): init() throws NO_SIMD and nothing runs', JSON.stringify(noSimd).slice(0, 500));
    fallback.push({ case: 'bun, BUN_JSC_useWasmSIMD=0', result: noSimd.initError ? `${noSimd.initError.message}` : 'ran?!' });
    const noRelaxed = await runCli('bun', bun, { env: { BUN_JSC_useWasmRelaxedSIMD: '0' } });
    const s = noRelaxed.builds?.simd128;
    check(noRelaxed.selected === 'simd128' && !!noRelaxed.builds?.relaxed?.unavailable && s && combined(s.hashes) === expectedCombined,
      'bun without relaxed SIMD (BUN_JSC_useWasmRelaxedSIMD=0): simd128 selected, same hashes', JSON.stringify(noRelaxed).slice(0, 500));
    fallback.push({ case: 'bun, BUN_JSC_useWasmRelaxedSIMD=0', result: `selected ${noRelaxed.selected}; ${noRelaxed.notes?.join('; ')}` });
  }
  const ff = findBrowser('firefox');
  if (!ff) skip('fallback under firefox without relaxed SIMD', 'firefox is not installed');
  if (ff) {
    const rep = await runBrowserPage('firefox', ff, server, '/conformance/hosts/browser.html', { prefs: { 'javascript.options.wasm_relaxed_simd': false } });
    const s = rep.builds?.simd128;
    check(rep.selected === 'simd128' && !!rep.builds?.relaxed?.unavailable && s && combined(s.hashes) === expectedCombined,
      'firefox without relaxed SIMD (javascript.options.wasm_relaxed_simd=false): simd128 selected, same hashes', JSON.stringify(rep).slice(0, 500));
    fallback.push({ case: 'firefox, wasm_relaxed_simd=false', result: `selected ${rep.selected}; ${rep.notes?.join('; ')}` });
  }
}
await server.close();
await noIso?.close();

// ---- the worker model (bitnet-wasm/worker) in the browsers, with and without isolation ---------
let workerResults = null;
if (want('worker')) {
  const { runWorkerProxyChecks } = await import('./worker-proxy.mjs');
  workerResults = await runWorkerProxyChecks({ check, skip, expected: expected.hashes });
}

// ---- packaging and examples -----------------------------------------------------------------
let exampleResults = null;
if (!argv.includes('--no-examples') && want('examples')) {
  const { runExampleChecks } = await import('./examples.mjs');
  exampleResults = await runExampleChecks({ check, skip });
}
// ---- serving: the openai client against `serve`, Deno, Bun and the Worker --------------------
let servingResults = null;
if (!argv.includes('--no-serving') && want('serving')) {
  const { runServingChecks } = await import('./serving.mjs');
  servingResults = await runServingChecks({ check, skip });
}

// ---- the benchmark suite in every runtime (bitnet-wasm bench --runtime, bench-hosts.mjs) -----
// Quick e2e on the conformance model: each runtime gives decode figures; wllama runs beside it in
// Chromium. Shape only, never speed.
let benchResults = null;
if (!argv.includes('--no-bench') && want('bench')) {
  const names = ['deno', 'bun', 'chromium', 'firefox', 'workerd'];
  const s0 = Date.now();
  const r = await run(process.execPath, [resolve(ROOT, 'dist/cli.js'), 'bench', '--suite', 'e2e', '--quick', '-m', 'conformance/tiny.gguf', '-p', '4', '-n', '32', '-t', '1,2', '--runtime', names.join(','), '-o', 'json'], { timeoutMs: 600000 });
  let br = null;
  try { br = JSON.parse(r.stdout); } catch { check(false, 'bench --runtime gave a run', `exit ${r.status}: ${r.stderr.slice(-1500)}`); }
  if (br) {
    benchResults = { wallMs: Date.now() - s0, notes: br.notes };
    for (const name of names) {
      const skipped = br.notes.find((n) => n.startsWith(`${name}: skipped`));
      if (skipped) { skip(`bench --runtime ${name}`, skipped); continue; }
      const tg = br.results.filter((x) => x.engine === 'bitnet-wasm' && x.runtime.startsWith(`${name} `) && x.test === 'tg32');
      check(tg.length > 0 && tg.every((x) => x.metrics.tokPerSec > 0 && Number.isFinite(x.metrics.tokPerSec)), `bench --runtime ${name}: e2e decode figures from ${name}`,
        br.notes.filter((n) => n.startsWith(name)).join('; ') || `${tg.length} results`);
      // -t 2: every runtime with workers times the library on 2 threads (browsers in the bench
      // page's Worker, isolated); workerd has no workers and says so instead of a figure.
      const two = tg.filter((x) => x.threads === 2);
      if (name === 'workerd') check(two.length === 0 && br.notes.some((n) => n.startsWith(`bitnet-wasm ${name}`) && /-t 2: skipped, the library ran 1 thread/.test(n)), 'bench --runtime workerd -t 2: skipped with a note (no workers there)', br.notes.filter((n) => n.includes('workerd')).join('; '));
      else check(two.length > 0, `bench --runtime ${name} -t 2: decode figures on 2 threads`, br.notes.filter((n) => n.includes(name) && n.includes('-t 2')).join('; ') || `${two.length} results`);
    }
    const w = br.results.filter((x) => x.engine === 'wllama' && x.test === 'tg32');
    const wNote = br.notes.find((n) => n.startsWith('wllama'));
    if (!w.length && /not installed/.test(wNote ?? '')) skip('bench: wllama in chromium', wNote);
    else if (br.notes.some((n) => n.startsWith('chromium: skipped'))) skip('bench: wllama in chromium', 'chromium is not installed');
    else check(w.some((x) => x.threads === 1 && x.metrics.tokPerSec > 0), 'bench: wllama (llama.cpp in wasm) decodes the same file in chromium', wNote ?? `${w.length} results`);
  }
  // `--runtime node` from a runner in Deno or Bun (both set process.versions.node) starts Node.
  for (const [name, args] of [['deno', ['eval']], ['bun', ['-e']]]) {
    const bin = NPM_BINARIES[name]();
    if (!bin) { skip(`bench: node host under ${name}`, `${name} is not installed`); continue; }
    const hosts = JSON.stringify(pathToFileURL(resolve(ROOT, 'test/runtimes/bench-hosts.mjs')).href);
    const picked = (await run(bin, [...args, `import(${hosts}).then((m) => console.log(m.nodeBinary()))`], { timeoutMs: 60000 })).stdout.trim();
    const says = picked ? (await run(picked, ['-p', 'typeof Deno + typeof Bun + " " + process.release.name'], { timeoutMs: 60000 })).stdout.trim() : '';
    check(says === 'undefinedundefined node', `bench: the node host under ${name} runs a Node binary`, `picked ${picked || 'nothing'}: ${says}`);
  }
  // A run interrupted (Ctrl-C) while Chromium runs: the runner ends the browser it started
  // (children.mjs) and --report keeps what finished (node's figures; chromium a note).
  if (!findBrowser('chromium')) skip('bench: an interrupted run', 'chromium is not installed');
  else {
    const dir = mkdtempSync(join(tmpdir(), 'bench-stop-'));
    // Everything the runner starts inherits this variable, even what leaves its process groups.
    const mark = `BITNET_STOP_TEST=${process.pid}-${Date.now()}`;
    const runner = spawnGroup(process.execPath, [resolve(ROOT, 'dist/cli.js'), 'bench', '--suite', 'attention', '--quick', '--runtime', 'node,chromium', '--report', dir],
      { cwd: ROOT, env: { ...process.env, BITNET_STOP_TEST: mark.split('=')[1] } });
    let err = '';
    runner.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((ok) => runner.on('exit', (code, signal) => ok({ code, signal })));
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    let browser = [];
    for (const t1 = Date.now(); browser.length < 2 && Date.now() - t1 < 180000 && runner.exitCode === null; await sleep(100)) browser = descendants(runner.pid).filter((p) => /chrom/i.test(p.comm));
    const groups = [...new Set([runner.pid, ...descendants(runner.pid).map((p) => p.pgid)])];
    try { process.kill(runner.pid, 'SIGINT'); } catch { /* it ended already: checked below */ } // the runner alone, as a terminal's Ctrl-C reaches it (its children have groups of their own)
    const e = await exited;
    const left = () => processTable({ env: true }).filter((p) => p.state !== 'Z' && (groups.includes(p.pgid) || p.env.split('\0').includes(mark)));
    for (const t1 = Date.now(); left().length && Date.now() - t1 < 10000;) await sleep(100);
    check(browser.length > 0 && e.signal === 'SIGINT' && !left().length, 'bench: a runner stopped by SIGINT leaves no browser process behind',
      `${browser.map((p) => p.comm).join(', ') || 'no chromium process'} seen, runner ${e.code ?? e.signal}, left: ${left().map((p) => `${p.pid} ${p.comm}`).join(', ')}; ${err.slice(-800)}`);
    let saved = null;
    try { saved = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')); } catch { /* checked below */ }
    check(saved?.envs?.map((x) => x.runtime.split(' ')[0]).join() === 'node' && saved.results.some((x) => x.suite === 'attention') && saved.notes.includes('chromium: not run (the run stopped before it)')
      && existsSync(join(dir, 'index.html')), 'bench: the stopped run kept node\'s figures in --report DIR/run.json, chromium a note', JSON.stringify(saved?.notes ?? err.slice(-800)));
  }
}

// ---- report --------------------------------------------------------------------------------
const table = [['runtime', 'version', 'build', 'hash (all cases)', 'result'], ...rows];
const widths = table[0].map((_, i) => Math.max(...table.map((r) => String(r[i]).length)));
const fmt = (r) => '| ' + r.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
console.log(`\nRuntime matrix (expected hash of all cases: ${expectedCombined.slice(0, 16)}):`);
console.log(fmt(table[0]));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of rows) console.log(fmt(r));

console.log('\nDecode tok/s on conformance/tiny.gguf (16-token prompt, 256 greedy steps; one thread):');
const speed = [['runtime', 'version', 'engine', 'simd128 tok/s', 'relaxed tok/s', 'conformance wall ms']];
for (const r of reports) {
  if (!r.report?.builds) continue;
  const b = r.report.builds;
  const tps = (x) => (x?.decodeTokPerSec ? Math.round(x.decodeTokPerSec).toString() : '-');
  speed.push([r.name, r.version, r.report.engine ?? r.report.userAgent?.replace(/^.*\) /, '') ?? '', tps(b.simd128), tps(b.relaxed), String(r.report.wallMs)]);
}
const w2 = speed[0].map((_, i) => Math.max(...speed.map((r) => String(r[i]).length)));
const fmt2 = (r) => '| ' + r.map((c, i) => String(c).padEnd(w2[i])).join(' | ') + ' |';
console.log(fmt2(speed[0]));
console.log('|' + w2.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of speed.slice(1)) console.log(fmt2(r));
if (fallback.length) {
  console.log('\nFallbacks:');
  for (const f of fallback) console.log(`  ${f.case}: ${f.result}`);
}
const wallMs = Date.now() - t0;
writeFileSync(resolve(ARTIFACTS, 'runtime-matrix.json'), JSON.stringify({ expected: expected.hashes, rows, reports, fallback, worker: workerResults, examples: exampleResults, serving: servingResults, bench: benchResults, failures, skips, wallMs }, null, 2));
if (failures.length) {
  console.log('\nFailures:');
  for (const f of failures) console.log(`  - ${f}`);
}
if (skips.length) {
  console.log('\nNot run (SKIPPED, so this run is not green):');
  for (const f of skips) console.log(`  - ${f}`);
}
console.log(`\nruntime matrix wall time: ${(wallMs / 1000).toFixed(1)} s (report: test-artifacts/runtime-matrix.json)`);
console.log(`runtime matrix: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed || skipped ? 1 : 0);
