// Entry of the benchmark suite for browsers (build/bench/browser.js; not in the package): the
// library as dist/browser.js has it, plus runBench, for the bench page of the repository's
// runtime runner (test/runtimes/bench-hosts.mjs, `bitnet-wasm bench --runtime chromium`).
import './browser.js';

export { LLAMA_CPP_TYPES, peerThreads, runBench } from '../bench/run.js';
export { probeWasm, setProbeModule } from '../bench/probe.js';
