// The -mt builds (shared memory, threads) inlined as base64 and registered as the library's default
// sources: imported for its effect by the entries that run where threads can (the engine worker and
// the benchmark suite's browser bundle, which the bench page runs in a Worker). dist/browser.js does
// not import it, so pages that never use threads do not carry the two extra builds.
import simd128mt from './bitnet-simd128-mt.wasm?base64';
import relaxedmt from './bitnet-relaxed-mt.wasm?base64';
import { setDefaultWasmSources } from '../../bindings/loader.js';
import { decodeBase64 } from './base64.js';

setDefaultWasmSources({ 'simd128-mt': { bytes: decodeBase64(simd128mt) }, 'relaxed-mt': { bytes: decodeBase64(relaxedmt) } });
