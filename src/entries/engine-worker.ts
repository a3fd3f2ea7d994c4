// The engine worker's script (dist/engine-worker.js): the library with its wasm builds inlined
// (the browser entry) answering a page's WorkerModel through postMessage. A worker may wait on
// others (Atomics.wait), so this is where threads run in a browser: the -mt builds (shared memory)
// are inlined here too, and a cross-origin isolated page gets threads. src/entries/worker.ts
// inlines this file's bundle and starts it from a blob: URL; a page whose Content-Security-Policy
// refuses blob: workers can serve dist/engine-worker.js itself and pass
// loadModel(src, { worker: new Worker(url, { type: 'module' }) }).
import { serveEngine } from './browser.js';
import './threaded-builds.js';

serveEngine(self as unknown as Parameters<typeof serveEngine>[0]);
