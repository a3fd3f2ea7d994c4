// One big-model check, shared by every host: load a model at a context, generate a few greedy
// tokens, and report load time, throughput, wasm memory against `info`'s estimate.
export async function runBig(lib, source, { contextLength, maxTokens = 4, fileSize, log = () => {} }) {
  const rt = await lib.createRuntime();
  const before = rt.exports.memory.buffer.byteLength;
  let last = 0;
  const t0 = performance.now();
  const model = await lib.loadModel(source, {
    runtime: rt, contextLength: contextLength || undefined, // --ctx default: loadModel's (the trained one, shrunk to fit)
    onProgress: ({ loadedBytes, totalBytes }) => {
      if (loadedBytes - last >= 256 << 20 || loadedBytes === totalBytes) { last = loadedBytes; log(`loaded ${(loadedBytes / 2 ** 20).toFixed(0)} / ${(totalBytes / 2 ** 20).toFixed(0)} MiB`); }
    },
  });
  const loadMs = performance.now() - t0;
  const wasmBytes = rt.exports.memory.buffer.byteLength;
  const estimate = lib.inspectHeader(model.header, { contextLength: model.contextLength, kernel: model.kernel }).memory[rt.build];
  const r = await model.generate('The capital of France is', { maxTokens, temperature: 0 });
  const report = {
    build: rt.build, kernel: model.kernel, contextLength: model.contextLength, loadMs: Math.round(loadMs),
    fileGBps: fileSize ? +(fileSize / loadMs / 1e6).toFixed(3) : undefined,
    wasmBytes, grownBytes: wasmBytes - before, modelBytes: model.byteLength, estimateBytes: estimate.total,
    tokens: r.tokens, decodeTokensPerSecond: +r.stats.decodeTokensPerSecond.toFixed(2),
    // the process's resident set after generating (Node, Deno, Bun): untouched KV cache pages are not in it
    rssBytes: globalThis.process?.memoryUsage?.().rss,
  };
  model.dispose();
  return report;
}
