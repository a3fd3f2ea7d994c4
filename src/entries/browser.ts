// Entry for browsers and bundlers targeting them (package export condition "browser"): the same
// API; the build (rollup.config.mjs) bundles its one dependency and replaces the Node-only file
// access by a clear error. Both wasm builds (28 KB and 35 KB) are inlined as base64, so every
// bundler (vite dev and build, webpack, esbuild, rollup) works with no asset configuration and no
// .wasm file to copy. `init({ url })` still fetches a .wasm instead when one is given.
import simd128 from './bitnet-simd128.wasm?base64';
import relaxed from './bitnet-relaxed.wasm?base64';
import { setDefaultWasmSources } from '../../bindings/loader.js';
import { decodeBase64 } from './base64.js';

setDefaultWasmSources({ simd128: { bytes: decodeBase64(simd128) }, relaxed: { bytes: decodeBase64(relaxed) } });

export * from '../index.js';
