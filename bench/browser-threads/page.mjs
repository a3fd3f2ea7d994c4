// Decode and prefill speed of a worker model (bitnet-wasm/worker) at each thread count, rounds
// interleaved (a load burst hits every count alike), best of each; the tokens must agree.
const q = new URLSearchParams(location.search);
const id = q.get('id');
const threads = (q.get('threads') ?? '1,2').split(',').map(Number);
const rounds = Number(q.get('rounds') ?? 2), n = Number(q.get('n') ?? 32), p = Number(q.get('p') ?? 64);
const post = (r) => fetch(`/__result/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(r) });
try {
  const { loadModel } = await import('/dist/worker.js');
  const models = {};
  for (const t of threads) models[t] = await loadModel('/model.gguf', { contextLength: 256, init: { threads: t } });
  const prompt = Array.from({ length: p }, (_, i) => (i * 7919 + 13) % models[threads[0]].config.nVocab);
  const best = {};
  for (let r = 0; r < rounds; r++) {
    for (const t of threads) {
      // The first token differs per round so the prompt is prefilled again (no KV reuse).
      const g = await models[t].generate([r + 1, ...prompt], { maxTokens: n, temperature: 0 });
      const b = (best[t] ??= { decode: 0, prefill: 0, tokens: g.tokens, threads: models[t].kernelInfo().threads, kernel: models[t].kernel });
      b.decode = Math.max(b.decode, g.stats.decodeTokensPerSecond);
      b.prefill = Math.max(b.prefill, g.stats.prefillTokensPerSecond);
    }
  }
  for (const t of threads) models[t].dispose();
  await post({ userAgent: navigator.userAgent, crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, best });
} catch (e) {
  await post({ fatal: `${e && e.code ? e.code + ': ' : ''}${e && e.stack || e}` });
}
