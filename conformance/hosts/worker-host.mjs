// Host for the worker model in browsers (test/runtimes/worker-proxy.mjs serves it with and without
// COOP/COEP): dist/worker.js's loadModel runs the engine in a Worker; this page computes the
// conformance hashes through it (both builds, the f16 cache, a worker started from
// dist/engine-worker.js, 1-4 threads in the worker), aborts a stream, collects errors, and measures how long the main
// thread is blocked while the worker generates and while the in-page engine (dist/browser.js)
// generates the same text. POSTs the report to /__result/<id>.
import { MAX_TOKENS, PROMPT, SAMPLING, sha256 } from '../cases.mjs';

const params = new URLSearchParams(location.search);
const id = params.get('id') ?? 'worker';
const logEl = document.getElementById('log');
const log = (m) => { logEl.textContent += '\n' + m; };
const post = (report) => fetch(`/__result/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(report) });
addEventListener('error', (e) => post({ fatal: `uncaught: ${e.message}` }));
addEventListener('unhandledrejection', (e) => post({ fatal: `unhandled rejection: ${e.reason && e.reason.stack || e.reason}` }));

// Console lines the library writes (the "not cross-origin isolated" line must come once).
const infoLines = [];
for (const k of ['info', 'warn', 'log']) {
  const orig = console[k].bind(console);
  console[k] = (...a) => { infoLines.push(a.map(String).join(' ')); orig(...a); };
}

const errOf = (e) => ({ name: e?.name, code: e?.code, offset: e?.offset, message: String(e?.message ?? e) });

/** The conformance outputs of a worker model (as conformance/cases.mjs computes them in-process). */
async function hashes(lib, bytes, opts) {
  const out = {};
  const model = await lib.loadModel(bytes.slice(), opts);
  try {
    const ids = await model.tokenize(PROMPT);
    out['prompt tokens'] = await sha256(Int32Array.from(ids));
    out.logits = await sha256(await model.logits(ids));
    const g = await model.generate(PROMPT, { maxTokens: MAX_TOKENS, ...SAMPLING });
    out[`${MAX_TOKENS} sampled tokens`] = await sha256(Int32Array.from(g.tokens));
    out['sampled text'] = await sha256(new TextEncoder().encode(g.text));
    out.build = model.kernelInfo().build;
    out.threads = model.kernelInfo().threads;
    out.kernel = model.kernel;
  } finally {
    model.dispose();
  }
  const m16 = await lib.loadModel(bytes.slice(), { ...opts, cacheType: 'f16' });
  try {
    out['logits, f16 KV cache'] = await sha256(await m16.logits(await m16.tokenize(PROMPT)));
  } finally {
    m16.dispose();
  }
  return out;
}

// The page-side work of the worker model: every 'message' listener on a Worker is timed (the
// proxy's handling of what the engine posts is all the main thread does for inference).
const handlerMs = { max: 0, total: 0, count: 0 };
const addListener = Worker.prototype.addEventListener;
Worker.prototype.addEventListener = function (type, f, o) {
  if (type !== 'message') return addListener.call(this, type, f, o);
  return addListener.call(this, type, (ev) => {
    const t = performance.now();
    try { return f(ev); } finally { const d = performance.now() - t; handlerMs.max = Math.max(handlerMs.max, d); handlerMs.total += d; handlerMs.count++; }
  }, o);
};

/** The main thread's longest stall while `fn` runs: a MessageChannel ping loop (every engine) and
 *  the Long Tasks API where there is one (Chromium); and the worker listeners' time meanwhile. */
async function blocking(fn) {
  const ch = new MessageChannel();
  let last = performance.now(), maxGap = 0, running = true, ticks = 0;
  ch.port1.onmessage = () => {
    const t = performance.now();
    maxGap = Math.max(maxGap, t - last);
    last = t;
    ticks++;
    if (running) setTimeout(() => ch.port2.postMessage(0), 0);
  };
  const longTasks = [];
  const supported = typeof PerformanceObserver !== 'undefined' && (PerformanceObserver.supportedEntryTypes ?? []).includes('longtask');
  const obs = supported ? new PerformanceObserver((l) => { for (const e of l.getEntries()) longTasks.push({ start: e.startTime, ms: e.duration }); }) : null;
  obs?.observe({ type: 'longtask' });
  await new Promise((r) => setTimeout(r, 0)); // fn starts in a task of its own
  ch.port2.postMessage(0);
  Object.assign(handlerMs, { max: 0, total: 0, count: 0 });
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const handlers = { ...handlerMs };
  running = false;
  await new Promise((r) => setTimeout(r, 100)); // the observer reports after the task
  obs?.disconnect();
  ch.port1.close();
  const during = longTasks.filter((e) => e.start <= t0 + ms && e.start + e.ms >= t0);
  return { value, ms, maxGapMs: maxGap, ticks, longTaskApi: supported, longTasks: during.length, maxLongTaskMs: during.reduce((m, e) => Math.max(m, e.ms), 0),
    handlerMaxMs: handlers.max, handlerTotalMs: handlers.total, messages: handlers.count };
}

try {
  const report = { userAgent: navigator.userAgent, crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, hashes: {}, checks: {} };
  const lib = await import('../../dist/worker.js');
  const bytes = new Uint8Array(await (await fetch('../tiny.gguf')).arrayBuffer());

  // Hashes: the default engine, each build, and a worker started from dist/engine-worker.js.
  report.hashes.default = await hashes(lib, bytes, {});
  log('default done');
  if (params.get('lite')) { // the page without isolation: the default engine (1 thread) and what it says
    report.consoleLines = infoLines;
    await post(report);
    throw null;
  }
  for (const build of ['simd128', 'relaxed']) {
    try { report.hashes[build] = await hashes(lib, bytes, { init: { build } }); } catch (e) { report.hashes[build] = { error: errOf(e) }; }
  }
  report.hashes.engineWorkerFile = await hashes(lib, bytes, { worker: new Worker('../../dist/engine-worker.js', { type: 'module' }) });
  // Threads inside the engine worker (this page is cross-origin isolated): 1-4, same bits.
  for (const n of [1, 2, 3, 4]) report.hashes[`${n} threads`] = await hashes(lib, bytes, { init: { threads: n } });
  log('hashes done');

  // Other sources: a URL relative to this page (the worker's own base is a blob: URL), a Blob, a
  // ReadableStream (transferred).
  report.checks.sources = {};
  const sources = { url: () => '../tiny.gguf', blob: async () => (await fetch('../tiny.gguf')).blob(), stream: async () => (await fetch('../tiny.gguf')).body };
  for (const [name, make] of Object.entries(sources)) {
    try {
      const m = await lib.loadModel(await make());
      report.checks.sources[name] = await sha256(await m.logits(await m.tokenize(PROMPT)));
      m.dispose();
    } catch (e) { report.checks.sources[name] = errOf(e); }
  }

  // The bytes are moved to the worker, not copied.
  const moved = bytes.slice();
  const mm = await lib.loadModel(moved);
  report.checks.transferred = moved.byteLength === 0;

  // Abort mid-stream, then the model still gives the reference text.
  const ac = new AbortController();
  let pieces = 0, caught = null;
  try {
    for await (const _ of mm.stream(PROMPT, { maxTokens: MAX_TOKENS, ...SAMPLING, signal: ac.signal })) if (++pieces === 3) ac.abort();
  } catch (e) { caught = e; }
  const after = await mm.generate(PROMPT, { maxTokens: MAX_TOKENS, ...SAMPLING });
  report.checks.abort = { pieces, reasonIsSignals: caught === ac.signal.reason, name: caught?.name, afterTokens: await sha256(Int32Array.from(after.tokens)) };

  // Errors keep their class, code and offset.
  const inPage = await import('../../dist/browser.js');
  const e1 = await mm.tokenize(5).catch((e) => e);
  const e2 = await mm.generate(Array.from({ length: 100000 }, () => 3)).catch((e) => e);
  const bad = bytes.slice();
  new DataView(bad.buffer).setUint32(0, 0x12345678, true);
  const e3 = await lib.loadModel(bad.slice()).catch((e) => e);
  const e3ref = await inPage.loadModel(bad).catch((e) => e);
  report.checks.errors = [e1, e2, e3].map((e) => ({ ...errOf(e), isWorkerBitnetError: e instanceof lib.BitnetError, isPageBitnetError: e instanceof inPage.BitnetError }));
  report.checks.errorRef = errOf(e3ref);
  mm.dispose();
  report.checks.afterDispose = errOf(await mm.tokenize('x').catch((e) => e));
  log('checks done');

  // Main-thread blocking: the same generation in the worker, then on this page (no signal, so it
  // never yields: the page is frozen for all of it, which the measurement must see).
  const big = new Uint8Array(await (await fetch('/model.gguf')).arrayBuffer());
  // Four greedy generations of the whole context, each piece handed to a callback (as a UI would).
  const run = async (model) => {
    let text = '', n = 0, tokens = 0, decode = 0;
    for (let i = 0; i < 4; i++) {
      const r = await model.generate(`Once upon a time ${i}`, { maxTokens: 250, temperature: 0, onText: (t) => { text += t; n++; } });
      tokens += r.tokens.length;
      decode += r.stats.decodeTokensPerSecond / 4;
    }
    return { text, pieces: n, tokens, decode };
  };
  const wmodel = await lib.loadModel(big.slice());
  await wmodel.generate('Once upon a time', { maxTokens: 4 }); // warm-up
  const w = await blocking(() => run(wmodel));
  const pmodel = await inPage.loadModel(big.slice());
  await pmodel.generate('Once upon a time', { maxTokens: 4 });
  const p = await blocking(() => run(pmodel));
  const summary = (x) => ({ ...x, value: undefined, tokens: x.value.tokens, pieces: x.value.pieces, tokPerSec: x.value.decode });
  report.blocking = { worker: summary(w), page: summary(p), sameText: w.value.text === p.value.text };
  wmodel.dispose();
  pmodel.dispose();
  report.consoleLines = infoLines;
  log(JSON.stringify(report, null, 1));
  await post(report);
} catch (e) {
  if (e !== null) await post({ fatal: `${e && e.code ? e.code + ': ' : ''}${e && e.stack || e}` });
}
