// The engine worker's script (dist/engine-worker.js): the library with both wasm builds inlined
// (the browser entry) answering a page's WorkerModel through postMessage. src/entries/worker.ts
// inlines this file's bundle and starts it from a blob: URL; a page whose Content-Security-Policy
// refuses blob: workers can serve dist/engine-worker.js itself and pass
// loadModel(src, { worker: new Worker(url, { type: 'module' }) }).
import { serveEngine } from './browser.js';

serveEngine(self as unknown as Parameters<typeof serveEngine>[0]);
