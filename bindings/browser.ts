// Entry for browsers and bundlers targeting them (package export condition "browser"): the same
// API; the build (rollup.config.mjs) bundles its one dependency and replaces the Node-only file
// access by a clear error. The wasm is fetched next to this file with compileStreaming (falling
// back to arrayBuffer + compile when the server does not send application/wasm).
export * from '../src/index.js';
