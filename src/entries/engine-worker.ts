// The engine worker's script (dist/engine-worker.js): the library with its wasm builds inlined
// (the browser entry) answering a page's WorkerModel through postMessage. A worker may wait on
// others (Atomics.wait), so this is where threads run in a browser: the -mt builds (shared memory)
// are inlined here too, and a cross-origin isolated page gets threads. src/entries/worker.ts
// inlines this file's bundle and starts it from a blob: URL; a page whose Content-Security-Policy
// refuses blob: workers can serve dist/engine-worker.js itself and pass
// loadModel(src, { worker: new Worker(url, { type: 'module' }) }).
import { serveEngine } from './browser.js';
import simd128mt from './bitnet-simd128-mt.wasm?base64';
import relaxedmt from './bitnet-relaxed-mt.wasm?base64';
import { setDefaultWasmSources } from '../../bindings/loader.js';

const decode = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
setDefaultWasmSources({ 'simd128-mt': { bytes: decode(simd128mt) }, 'relaxed-mt': { bytes: decode(relaxedmt) } });

serveEngine(self as unknown as Parameters<typeof serveEngine>[0]);
