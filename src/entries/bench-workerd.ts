// Entry of the benchmark suite for workerd (build/bench/workerd.js; not in the package): the
// library as dist/workerd.js has it, plus runBench, for the bench Worker of the repository's
// runtime runner (test/runtimes/bench-hosts.mjs, `bitnet-wasm bench --runtime workerd`).
import './workerd.js';

export { runBench } from '../bench/run.js';
export { probeWasm, setProbeModule } from '../bench/probe.js';
