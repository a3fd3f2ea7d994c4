// Browser example: loads a GGUF model with a progress bar, streams the completion into the page
// and shows tokens per second. `?model=URL` picks the file (default /model.gguf, as serve.mjs
// serves it); `?autorun=1` generates at once (the test suite uses it and `?report=ID`).
import { init, kernelInfo, loadModel } from 'bitnet-wasm';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const report = params.get('report') ?? params.get('id');
const result = { crossOriginIsolated: self.crossOriginIsolated, envMessage: '', text: '', build: null, tokPerSec: 0, error: null };

// Threads (SharedArrayBuffer) need cross-origin isolation. This version decodes on one thread
// anyway, so a page without it works the same; say so rather than failing or guessing.
if (!self.crossOriginIsolated) {
  result.envMessage = 'This page is not cross-origin isolated (no COOP/COEP headers): SharedArrayBuffer and threads are unavailable, so bitnet-wasm runs single-threaded.';
  $('env').textContent = result.envMessage;
}

async function main() {
  try {
    await init();
    const info = kernelInfo();
    result.build = info.build;
    $('status').textContent = `build ${info.build}${info.notes.length ? ` (${info.notes[0]})` : ''}; loading the model…`;
    // In a page a string is a URL relative to the page (file paths are for Node, Deno and Bun).
    const model = await loadModel(params.get('model') ?? '/model.gguf', {
      onProgress: ({ loadedBytes, totalBytes }) => { $('progress').value = totalBytes ? loadedBytes / totalBytes : 0; },
    });
    $('progress').value = 1;
    $('status').textContent = `build ${info.build}; model ready (${(model.byteLength / 1e6).toFixed(1)} MB in wasm memory)`;
    const go = $('go');
    go.disabled = false;
    const generate = async () => {
      go.disabled = true;
      $('out').textContent = '';
      const r = await model.generate($('prompt').value, {
        maxTokens: 64, temperature: 0.9, topK: 40, topP: 0.95, seed: 1234,
        signal: new AbortController().signal, // yields to the event loop per token, so the page repaints
        onText: (piece) => { $('out').textContent += piece; },
      });
      result.text = r.text;
      result.tokPerSec = r.stats.decodeTokensPerSecond;
      $('speed').textContent = `${r.stats.generatedTokens} tokens, ${r.stats.decodeTokensPerSecond.toFixed(0)} tok/s`;
      go.disabled = false;
    };
    go.onclick = generate;
    if (params.get('autorun')) await generate();
  } catch (e) {
    result.error = `${e.code ?? e.name}: ${e.message}`;
    $('status').textContent = result.error;
    $('status').className = 'err';
  }
  document.body.dataset.done = '1';
  if (report) await fetch(`/__result/${encodeURIComponent(report)}`, { method: 'POST', body: JSON.stringify(result) });
}
main();
