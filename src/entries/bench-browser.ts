// Entry of the benchmark suite for browsers (build/bench/browser.js; not in the package): the
// library as dist/browser.js has it, plus runBench, for the bench page of the repository's
// runtime runner (test/runtimes/bench-hosts.mjs, `bitnet-wasm bench --runtime chromium`).
// The page runs it in a Worker, so the -mt builds are inlined too (as in the engine worker):
// -t 2 then times the library's threads in a cross-origin isolated page.
import './browser.js';
import './threaded-builds.js';

export { LLAMA_CPP_TYPES, peerThreads, runBench } from '../bench/run.js';
export { probeWasm, setProbeModule } from '../bench/probe.js';
