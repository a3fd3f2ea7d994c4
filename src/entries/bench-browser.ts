// Entry of the benchmark suite for browsers (build/bench/browser.js; not in the package): the
// library as dist/browser.js has it, plus runBench, for the bench page of the repository's
// runtime runner (test/runtimes/bench-hosts.mjs, `bitnet-wasm bench --runtime chromium`).
// The page runs it in a Worker, so the -mt builds are inlined too (as in the engine worker):
// -t 2 then times the library's threads in a cross-origin isolated page.
import './browser.js';
import simd128mt from './bitnet-simd128-mt.wasm?base64';
import relaxedmt from './bitnet-relaxed-mt.wasm?base64';
import { setDefaultWasmSources } from '../../bindings/loader.js';

const decode = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
setDefaultWasmSources({ 'simd128-mt': { bytes: decode(simd128mt) }, 'relaxed-mt': { bytes: decode(relaxedmt) } });

export { LLAMA_CPP_TYPES, peerThreads, runBench } from '../bench/run.js';
export { probeWasm, setProbeModule } from '../bench/probe.js';
