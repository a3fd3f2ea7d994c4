// Entry for Cloudflare workerd (package export condition "workerd"). workerd refuses to compile
// wasm bytes and gives modules no import.meta.url: the only way in is a module import, which
// yields a compiled WebAssembly.Module. In dist/ this file sits next to both .wasm builds, so the
// imports below resolve there (wrangler bundles them as CompiledWasm modules; a workerd config
// lists them as `wasm = embed "..."` modules named next to this one).
import simd128 from './bitnet-simd128.wasm';
import relaxed from './bitnet-relaxed.wasm';
import { setDefaultWasmSources } from '../../bindings/loader.js';

setDefaultWasmSources({ simd128: { module: simd128 }, relaxed: { module: relaxed } });

export * from '../index.js';
