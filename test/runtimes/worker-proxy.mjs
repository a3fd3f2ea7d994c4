// The worker model (`bitnet-wasm/worker`, dist/worker.js) in headless Chromium and Firefox, run by
// matrix.mjs: conformance/hosts/worker.html served with COOP/COEP and without. Checks: the worker
// model's conformance hashes (default engine, each build, f16 cache, a worker started from
// dist/engine-worker.js) equal conformance/expected.json; the model bytes are transferred; a
// stream aborted after 3 pieces throws the signal's reason and the model then gives the pinned
// tokens; errors arrive as BitnetError with code and offset; while the worker generates, the
// page's own work per message stays under a frame, its stalls (Long Tasks API in Chromium, a ping
// loop in both) are reported next to the same generation run on the page, which must be seen
// freezing it. Without isolation (the default engine's hashes only) the page says once that it
// runs on 1 thread.
import { resolve } from 'node:path';
import { startServer } from './server.mjs';
import { ROOT, findBrowser, runBrowserPage } from './runtimes.mjs';

/** One frame at 60 Hz: the longest the main thread may be blocked while the worker generates. */
const FRAME_MS = 1000 / 60;

export async function runWorkerProxyChecks({ check, skip, expected, only = ['chromium', 'firefox'] }) {
  const results = {};
  for (const kind of only) {
    const bin = findBrowser(kind);
    if (!bin) { skip(`the worker model in ${kind}`, `${kind} is not installed`); continue; }
    for (const coi of [true, false]) {
      const tag = `${kind} ${coi ? 'COOP/COEP' : 'no isolation'}`;
      const server = await startServer({ root: ROOT, coi, files: { '/model.gguf': resolve(ROOT, 'models/default.gguf') } });
      let rep;
      try {
        rep = await runBrowserPage(kind, bin, server, `/conformance/hosts/worker.html${coi ? '' : '?lite=1'}`, { timeoutMs: 240000 });
      } finally {
        await server.close();
      }
      results[tag] = rep;
      if (rep.fatal) { check(false, `the worker model in ${tag} ran`, rep.fatal); continue; }
      const keys = ['prompt tokens', 'logits', 'logits, f16 KV cache', '64 sampled tokens', 'sampled text'];
      for (const [name, h] of Object.entries(rep.hashes)) {
        const want = name === 'simd128' ? 'simd128' : 'relaxed'; // both browsers run the relaxed build by default
        // Threads: n when asked (init: { threads: n }); by default the cores reported, at most 8; 1 without isolation.
        const threads = /^\d+ threads$/.test(name) ? Number(name.split(' ')[0]) : coi ? Math.min(rep.hardwareConcurrency, 8) : 1;
        const bad = keys.filter((k) => h[k] !== expected[k]).map((k) => `${k}: ${String(h[k] ?? JSON.stringify(h.error)).slice(0, 16)}`);
        check(bad.length === 0 && h.build === want && h.threads === threads,
          `${tag}: worker model (${name}: ${h.build}, ${h.kernel}, ${h.threads} thread${h.threads === 1 ? '' : 's'}) gives the pinned prompt tokens, logits (f32 and f16 cache), 64 sampled tokens and text`,
          `${bad.join('; ')}; build ${h.build}; threads ${h.threads}, expected ${threads}`);
      }
      const said = rep.consoleLines.filter((l) => /not cross-origin isolated/.test(l));
      check(rep.crossOriginIsolated === coi && said.length === (coi ? 0 : 1),
        coi ? `${tag}: the page is cross-origin isolated and says nothing about threads` : `${tag}: the page is not isolated and says once that the engine runs on 1 thread`,
        `crossOriginIsolated ${rep.crossOriginIsolated}; lines ${JSON.stringify(rep.consoleLines)}`);
      if (!coi) continue; // the rest once per browser
      const c = rep.checks;
      check(['url', 'blob', 'stream'].every((k) => c.sources[k] === expected.logits), `${tag}: a relative URL, a Blob and a ReadableStream load the same model (pinned logits)`, JSON.stringify(c.sources));
      check(c.transferred === true, `${tag}: the model bytes are transferred to the worker (the page's buffer is detached)`, JSON.stringify(c.transferred));
      check(c.abort.pieces === 3 && c.abort.reasonIsSignals && c.abort.afterTokens === expected['64 sampled tokens'],
        `${tag}: a stream aborted after 3 pieces throws the signal's reason (${c.abort.name}); the model then gives the pinned tokens`, JSON.stringify(c.abort));
      const [e1, e2, e3] = c.errors;
      check(e1.code === 'BAD_ARGUMENT' && e2.code === 'CONTEXT_OVERFLOW' && e3.code === c.errorRef.code && e3.offset === c.errorRef.offset && e3.message === c.errorRef.message
        && c.errors.every((e) => e.isWorkerBitnetError && e.isPageBitnetError && e.name === 'BitnetError') && c.afterDispose.code === 'DISPOSED',
        `${tag}: errors cross as BitnetError with code and offset (${e1.code}, ${e2.code}, ${e3.code} at ${e3.offset}; DISPOSED after dispose)`, JSON.stringify(c));
      // Blocking: what the page does for inference (the worker's message listeners, timed) stays
      // under a frame per message; stalls of the page (ping loop, Long Tasks) are reported: on a
      // loaded machine the OS alone can stall a thread for tens of ms, so they are compared with
      // the same generation run on the page, which must be seen freezing it.
      const b = rep.blocking;
      const lt = (x) => (x.longTaskApi ? `${x.longTasks} long tasks${x.longTasks ? `, longest ${x.maxLongTaskMs.toFixed(0)} ms` : ''}` : 'no Long Tasks API');
      check(b.sameText && b.worker.messages >= b.worker.pieces && b.worker.handlerMaxMs < FRAME_MS && b.page.maxGapMs >= 0.9 * b.page.ms
        && (!b.page.longTaskApi || b.page.longTasks > 0) && b.worker.maxGapMs < b.page.maxGapMs,
        `${tag}: while the worker generates ${b.worker.tokens} tokens (${b.worker.pieces} pieces to a callback) the page's work per message is at most `
        + `${b.worker.handlerMaxMs.toFixed(2)} ms (< 1 frame), its longest stall ${b.worker.maxGapMs.toFixed(1)} ms (${lt(b.worker)}); `
        + `the same on the page freezes it ${b.page.maxGapMs.toFixed(0)} ms (${lt(b.page)})`, JSON.stringify(b));
    }
  }
  return results;
}
