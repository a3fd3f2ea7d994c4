// Browser example: a small chat on bitnet-wasm, the engine in a worker (bitnet-wasm/worker: the
// page stays responsive while tokens are generated). The model file is kept in the browser's Cache API
// (loadModel(url, { cache: true })): the first visit downloads it (parallel Range requests, with
// progress), later visits load it from the cache. Replies stream in; Stop aborts one; tok/s after
// each reply; the cached models can be listed and deleted.
//   ?model=URL (default /model.gguf, as serve.mjs serves it)   ?cache=0 (no caching)
//   ?chunk=BYTES (Range request size when downloading; default 8 MiB)
//   ?autorun=1 sends the prompt at once; ?stoptest=1 then sends another and presses Stop after 3
//   pieces; ?report=ID posts the results (the test suite uses these).
import { deleteCachedModel, FALLBACK_CHAT_TEMPLATE, listCachedModels, loadModel } from 'bitnet-wasm/worker';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const report = params.get('report');
const modelUrl = new URL(params.get('model') ?? '/model.gguf', location.href).href;
const useCache = params.get('cache') !== '0' && (params.get('chunk') ? { chunkBytes: Number(params.get('chunk')) } : true);
const SAMPLING = { maxTokens: 64, temperature: 0.9, topK: 40, topP: 0.95, seed: 1234 };
const result = { crossOriginIsolated: self.crossOriginIsolated, envMessage: '', build: null, error: null, source: null, loadMs: 0, fetchMs: 0, text: '', tokPerSec: 0, stopped: null, cachedModels: [] };
window.__result = result;

// Threads (SharedArrayBuffer) need cross-origin isolation: a page without it works the same on one
// thread; say so rather than failing or guessing.
if (!self.crossOriginIsolated) {
  result.envMessage = 'This page is not cross-origin isolated (no COOP/COEP headers): SharedArrayBuffer and threads are unavailable, so bitnet-wasm runs single-threaded.';
  $('env').textContent = result.envMessage;
}

const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
const PHASES = { download: 'downloading', cache: 'reading from the cache', load: 'loading weights into wasm memory' };

async function showCached() {
  if (!('caches' in self)) { $('cachedList').innerHTML = '<li>no Cache API here (needs https or localhost)</li>'; return; }
  const list = await listCachedModels();
  result.cachedModels = list;
  $('cachedList').replaceChildren(...(list.length ? list.map((m) => {
    const li = document.createElement('li');
    const del = document.createElement('button');
    del.textContent = 'Delete';
    del.onclick = async () => { await deleteCachedModel(m.url); await showCached(); };
    li.append(`${m.url} — ${mb(m.bytes)}, cached ${m.cachedAt.replace('T', ' ').slice(0, 19)} `, del);
    return li;
  }) : [Object.assign(document.createElement('li'), { textContent: 'none' })]));
}

function addMessage(role, text = '') {
  const div = document.createElement('div');
  div.className = `msg ${role}`;
  const who = document.createElement('b');
  who.textContent = role === 'user' ? 'You' : 'bitnet-wasm';
  const body = Object.assign(document.createElement('span'), { className: 'text', textContent: text });
  const stats = Object.assign(document.createElement('span'), { className: 'stats' });
  div.append(who, body, stats);
  $('log').append(div);
  return { body, stats };
}

async function main() {
  try {
    const t0 = performance.now();
    let source = 'network';
    const model = await loadModel(modelUrl, {
      cache: useCache,
      onProgress: ({ phase, loadedBytes, totalBytes }) => {
        if (phase === 'cache') source = 'cache';
        if (phase === 'load' && !result.fetchMs) result.fetchMs = performance.now() - t0;
        $('progress').value = totalBytes ? loadedBytes / totalBytes : 0;
        $('phase').textContent = `${PHASES[phase]} ${mb(loadedBytes)} / ${mb(totalBytes)}`;
      },
    });
    result.loadMs = performance.now() - t0;
    result.source = source;
    const info = model.kernelInfo();
    result.build = info.build;
    $('status').textContent = `wasm build ${info.build}${info.notes.length ? ` (${info.notes[0]})` : ''}, in a worker`;
    $('progress').value = 1;
    $('phase').textContent = `model ready: ${mb(await model.byteLength())} in wasm memory`;
    $('source').textContent = source === 'cache' ? `loaded from cache in ${result.loadMs.toFixed(0)} ms` : `downloaded${useCache ? ' and cached' : ''} in ${result.loadMs.toFixed(0)} ms`;
    $('source').className = source;
    await showCached();

    // The file's chat template, or a plain "role: content" one for files without.
    const template = model.chatTemplate !== null ? undefined : FALLBACK_CHAT_TEMPLATE;
    const messages = [];
    let current = null; // the reply being generated: { abort, pieces }
    const send = async (text, { onPiece } = {}) => {
      messages.push({ role: 'user', content: text });
      addMessage('user', text);
      const out = addMessage('assistant');
      const abort = new AbortController();
      current = { abort, pieces: 0 };
      $('send').disabled = true; $('stop').disabled = false;
      let reply = '', stopped = false;
      const t = performance.now();
      try {
        const r = await model.chat(messages, {
          ...SAMPLING, template, signal: abort.signal,
          onText: (piece) => { reply += piece; out.body.textContent = reply; current.pieces++; onPiece?.(current); $('log').scrollTop = $('log').scrollHeight; },
        });
        out.stats.textContent = `${r.stats.generatedTokens} tokens · ${r.stats.decodeTokensPerSecond.toFixed(0)} tok/s · ${r.finishReason}`;
        $('speed').textContent = `last reply: ${r.stats.generatedTokens} tokens at ${r.stats.decodeTokensPerSecond.toFixed(0)} tok/s (prompt ${r.stats.promptTokens} tokens)`;
        result.tokPerSec = r.stats.decodeTokensPerSecond;
      } catch (e) {
        if (!abort.signal.aborted) throw e;
        stopped = true;
        out.stats.textContent = `stopped after ${current.pieces} pieces · ${((performance.now() - t) / 1000).toFixed(2)} s`;
      } finally {
        messages.push({ role: 'assistant', content: reply });
        current = null;
        $('send').disabled = false; $('stop').disabled = true;
      }
      return { reply, stopped };
    };
    $('stop').onclick = () => current?.abort.abort();
    $('form').onsubmit = (ev) => { ev.preventDefault(); const text = $('prompt').value.trim(); if (text) { $('prompt').value = ''; send(text); } };
    $('send').disabled = false;

    if (params.get('autorun')) {
      const text = $('prompt').value;
      $('prompt').value = '';
      const first = await send(text);
      result.text = first.reply;
      if (params.get('stoptest')) {
        // Press Stop (the button) once 3 pieces of the next reply are there.
        const second = await send('Tell me more.', { onPiece: (c) => { if (c.pieces === 3) $('stop').click(); } });
        result.stopped = { stopped: second.stopped, text: second.reply };
      }
    }
  } catch (e) {
    result.error = `${e.code ?? e.name}: ${e.message}`;
    $('status').textContent = result.error;
    $('status').className = 'err';
  }
  document.body.dataset.done = '1';
  if (report) await fetch(`/__result/${encodeURIComponent(report)}`, { method: 'POST', body: JSON.stringify(result) });
}
main();
