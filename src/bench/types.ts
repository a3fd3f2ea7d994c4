// The JSON a benchmark run is saved as (bench/report/run.json): one environment, one flat list of
// results. Every result names its engine, runtime, build, kernel and thread count, so runs with
// more threads or runtimes add rows rather than change the shape.

export type SuiteName = 'probe' | 'kernels' | 'e2e' | 'load' | 'attention';
export const SUITES: readonly SuiteName[] = ['kernels', 'e2e', 'load', 'attention'];

export interface BenchEnv {
  package: string;
  /** "node", "deno", "bun" and its version. */
  runtime: string;
  cpu: string;
  cores: number;
  os: string;
  /** The wasm builds this runtime can run. */
  builds: string[];
  /** The kernel the library picks by default in this runtime (init's choice). */
  defaultKernel: string;
  /** The kernel calibration of init (src/calibrate.ts): the chosen layout's GEMV / GEMM kernels, and per layout the fastest. */
  calibration: { gemv: string; gemm: string; byLayout: object; measured: boolean; ms: number };
}

export interface BenchResult {
  suite: SuiteName;
  /** "bitnet-wasm" or a peer ("llama.cpp"). */
  engine: string;
  runtime: string;
  build: string;
  kernel: string;
  threads: number;
  /** What was run, e.g. "gemv 2560x6912 hot", "pp128", "load". Unique with the fields above. */
  test: string;
  params: Record<string, string | number>;
  /** Figures (higher is better for every name in PRIMARY). */
  metrics: Record<string, number>;
  repetitions: number;
}

export interface BenchRun {
  schema: 1;
  date: string;
  command: string;
  quick: boolean;
  /** Where the command ran (the host; with --runtime it starts the others). */
  env: BenchEnv;
  /** --runtime: the environment of every runtime that ran, host included (results name theirs). */
  envs?: BenchEnv[];
  results: BenchResult[];
  /** Things skipped and why (peers not installed, builds this runtime lacks). */
  notes: string[];
}

/** The figure of each suite that --compare and the README table follow. */
export const PRIMARY: Record<SuiteName, string> = {
  probe: 'readGBs', kernels: 'gops', e2e: 'tokPerSec', load: 'mbPerSec', attention: 'gflops',
};

/** Identity of a result across runs (e2e and load runs repeat their tests per model file). */
export const resultKey = (r: BenchResult) => [r.suite, r.engine, r.runtime.split(' ')[0], r.build, r.kernel, r.threads, r.params.model ?? '', r.test].join('|');
