// `bench`: llama-bench's shape. Without --suite: prefill and decode speed of one model (pp N / tg N),
// as before. With --suite: the benchmark suite (src/bench/): kernels, e2e, load, attention, all,
// printed as md/json/csv; --report DIR saves run.json and the HTML report beside it.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BitnetError } from '../errors.js';
import { kernelInfo } from '../init.js';
import { formatCsv, formatMarkdown } from '../bench/format.js';
import { compareRuns, formatComparison, htmlReport, replaceReadmeSection } from '../bench/report.js';
import { MODEL_SHAPES } from '../bench/kernels.js';
import { presetModels } from '../bench/models.js';
import { mergeRuns, runBench, type BenchModel, type RunOptions } from '../bench/run.js';
import { BENCH_RUNTIMES, runSoFar, runtimeFamily, runWithRuntimes } from '../bench/runtimes.js';
import { SUITES, type BenchRun, type SuiteName } from '../bench/types.js';
import { TERNARY_TYPE_NAMES as TERNARY_TYPES } from '../gguf/index.js';
import { PRESET_NAMES } from '../synth/presets.js';
import { describeModel, loadOptions, MODEL_OPTION, MODEL_POSITIONAL, modelFile, openModel, PROGRAM, type Command } from './common.js';
import { UsageError } from './errors.js';
import type { Values } from './options.js';

const list = (v: Values[string]) => (Array.isArray(v) ? v as number[] : [v as number]);

async function readRun(file: string): Promise<BenchRun> {
  let run: BenchRun;
  try { run = JSON.parse(await readFile(file, 'utf8')); } catch (e) { throw new BitnetError('BAD_ARGUMENT', `${file}: not a benchmark run (${(e as Error).message})`); }
  if (run?.schema !== 1 || !Array.isArray(run.results)) throw new BitnetError('BAD_ARGUMENT', `${file}: not a benchmark run of schema 1 (bitnet-wasm bench -o json or --report writes one)`);
  return run;
}

/** A file replaced whole or not at all (a run killed while writing keeps the previous one). */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** --report DIR: run.json and the HTML report drawn from it. */
export async function saveReport(dir: string, run: BenchRun): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, 'run.json'), JSON.stringify(run, null, 2) + '\n');
  await writeAtomic(join(dir, 'index.html'), htmlReport(run));
}

export const command: Command = {
  spec: {
    name: 'bench',
    summary: 'prefill and decode speed (llama-bench); the benchmark suite (--suite)',
    description: 'Without --suite: times a prompt of -p tokens (one prefill) and -n single-token decode steps, like\n'
      + 'llama-bench, and prints a markdown table (one row per -p x -n pair). The model and build are described on stderr.\n'
      + 'With --suite: runs the benchmark suite (kernels: every ternary kernel and the dense f32/int8 baselines on\n'
      + 'the BitNet 700M/2B4T/3B shapes, GEMV and GEMM, hot and streamed, beside a memory-bandwidth probe; e2e: load,\n'
      + 'pp/tg tok/s of the model, with native llama.cpp beside it when node-llama-cpp is installed; load; attention).',
    positionals: [MODEL_POSITIONAL],
    options: [
      MODEL_OPTION,
      { name: 'n-prompt', short: 'p', kind: 'ints', arg: 'N,..', min: 1, max: 1 << 20, default: 128, help: 'prompt tokens to prefill, a list (llama-bench -p)' },
      { name: 'n-gen', short: 'n', kind: 'ints', arg: 'N,..', min: 0, max: 1 << 20, default: 64, help: 'tokens to decode one at a time, a list (llama-bench -n)' },
      { name: 'repetitions', short: 'r', kind: 'int', arg: 'N', min: 1, max: 1000, default: 1, help: 'repetitions of each e2e/load test (llama-bench -r); kernel timings repeat by time' },
      { name: 'output', short: 'o', kind: 'choice', arg: 'FORMAT', choices: ['md', 'json', 'csv'], default: 'md', help: 'output format of the suite (llama-bench -o)' },
      { name: 'suite', kind: 'choice', arg: 'NAME', choices: [...SUITES, 'all'], help: 'run the benchmark suite' },
      { name: 'quick', kind: 'flag', help: 'seconds instead of minutes: small shapes, short timings (checks the suite runs, figures are rough)' },
      { name: 'threads', short: 't', kind: 'ints', arg: 'N,..', min: 1, max: 256, defaultText: "init's default ('auto'); the suite's e2e: 1 and every core", help: 'thread counts, a list (llama-bench -t): a row each; in the suite\'s e2e, peers also run at 1 and (but with --quick) every core' },
      { name: 'runtime', kind: 'choices', arg: 'NAMES', choices: [...BENCH_RUNTIMES, 'all'], defaultText: 'this one', help: 'runtimes to run the suite in (the repository\'s runtime runner starts the others)' },
      { name: 'kernel-models', kind: 'choices', arg: 'NAMES', choices: Object.keys(MODEL_SHAPES), defaultText: Object.keys(MODEL_SHAPES).join(','), help: 'kernels: the models whose projection shapes are timed' },
      { name: 'presets', kind: 'choices', arg: 'NAMES', choices: PRESET_NAMES, help: 'e2e/load: make-model presets to run (instead of -m)' },
      { name: 'types', kind: 'choices', arg: 'TYPES', choices: TERNARY_TYPES, defaultText: TERNARY_TYPES.join(','), help: '--presets: ternary types of the files' },
      { name: 'models-dir', kind: 'string', arg: 'DIR', defaultText: 'bitnet-wasm-bench in the temporary folder', help: '--presets: where the files are written once and reused' },
      { name: 'no-peers', kind: 'flag', help: 'e2e: do not time native llama.cpp (and wllama in Chromium) beside bitnet-wasm' },
      { name: 'report', kind: 'string', arg: 'DIR', help: 'write DIR/run.json and DIR/index.html (charts) from the run; with --runtime, again as each runtime finishes' },
      { name: 'resume', kind: 'flag', help: '--runtime and --report DIR: keep the runtimes DIR/run.json has figures of (a stopped run of the same command) and run the others' },
      { name: 'from', kind: 'file', arg: 'FILE', help: 'use a saved run (run.json) instead of running: re-print, --report, --readme, --compare' },
      { name: 'readme', kind: 'file', arg: 'FILE', help: "replace FILE's section between <!-- bench:begin --> and <!-- bench:end --> with the run's table" },
      { name: 'compare', kind: 'file', arg: 'OLD', help: 'print each result over the same result of an older run (OLD.json) and flag drops' },
      { name: 'threshold', kind: 'number', arg: 'F', min: 0, max: 1, default: 0.1, help: '--compare: a drop bigger than this fraction is flagged (exit code 1)' },
      // -t is this command's list (above): the suite runs every count given.
      ...loadOptions({ defaultText: "the model's trained context, at most 4096", help: 'context length (must hold -p + -n)' }).filter((o) => o.name !== 'threads'),
    ],
    examples: [
      `${PROGRAM} bench model.gguf -p 128 -n 64`,
      `${PROGRAM} bench --suite all --report bench/report`,
      `${PROGRAM} bench --suite kernels --quick -o json`,
      `${PROGRAM} bench --from bench/report/run.json --readme README.md`,
      `${PROGRAM} bench --suite kernels --compare old.json`,
    ],
  },
  check(v) {
    const p = Math.max(...list(v['n-prompt'])), n = Math.max(...list(v['n-gen'])), c = v['ctx-size'] as number | undefined;
    if (c !== undefined && p + n > c) throw new UsageError(`-p ${p} + -n ${n} tokens do not fit -c ${c}`);
    const suiteOnly = ['quick', 'report', 'resume', 'from', 'readme', 'compare', 'no-peers', 'runtime', 'presets', 'types', 'models-dir', 'kernel-models'].filter((k) => v[k] !== undefined);
    if (!v.suite && !v.from && suiteOnly.length) throw new UsageError(`--${suiteOnly[0]} needs --suite (or --from)`);
    if (v.suite && v.from) throw new UsageError('--suite runs the suite and --from reads a saved run: give one');
    if (v.presets && v.model) throw new UsageError('-m FILE and --presets both name the models: give one');
    if ((v.types || v['models-dir']) && !v.presets) throw new UsageError(`--${v.types ? 'types' : 'models-dir'} needs --presets`);
    if (v.resume && !(v.runtime && v.report)) throw new UsageError('--resume needs --runtime and --report DIR (it goes on with the run saved there)');
  },
  async run(v, io) {
    if (!v.suite && !v.from) return singleModel(v, io);
    const run = v.from ? await readRun(v.from as string) : await suiteRun(v, io);
    const fmt = v.output as string;
    io.out(fmt === 'json' ? JSON.stringify(run, null, 2) : fmt === 'csv' ? formatCsv(run) : formatMarkdown(run));
    if (v.report) {
      const dir = v.report as string;
      await saveReport(dir, run);
      io.err(`${PROGRAM} bench: wrote ${join(dir, 'run.json')} and ${join(dir, 'index.html')}`);
    }
    if (v.readme) {
      const file = v.readme as string;
      await writeFile(file, replaceReadmeSection(await readFile(file, 'utf8'), run));
      io.err(`${PROGRAM} bench: updated the performance section of ${file}`);
    }
    if (v.compare) {
      const threshold = v.threshold as number;
      const c = compareRuns(await readRun(v.compare as string), run, threshold);
      io.out(formatComparison(c, threshold));
      if (c.some((x) => x.drop)) throw new BitnetError('BAD_ARGUMENT', `${c.filter((x) => x.drop).length} results dropped more than ${(threshold * 100).toFixed(0)}% against ${v.compare}`);
    }
  },
};

/** Runs the suite here and, with --runtime, in the other runtimes; one merged run. */
async function suiteRun(v: Values, io: Parameters<Command['run']>[1]): Promise<BenchRun> {
  const log = (l: string) => io.err(`${PROGRAM} bench: ${l}`);
  const suites = v.suite === 'all' ? [...SUITES] : [v.suite as SuiteName];
  const presets = v.presets as string[] | undefined, types = (v.types as string[] | undefined) ?? [...TERNARY_TYPES];
  const modelsDir = (v['models-dir'] as string | undefined) ?? join(tmpdir(), 'bitnet-wasm-bench');
  const needModels = suites.includes('e2e') || suites.includes('load');
  const models: BenchModel[] = !needModels ? [] : presets ? await presetModels(presets, types, modelsDir, log)
    : [{ file: modelFile(v), name: v.model ? basename(v.model as string, '.gguf') : 'default' }];
  const options: RunOptions = {
    suites, models, kernelModels: v['kernel-models'] as string[] | undefined, prompts: list(v['n-prompt']), gens: list(v['n-gen']), threads: v.threads ? list(v.threads) : undefined, repetitions: v.repetitions as number,
    quick: v.quick === true, builds: v.build ? [v.build as 'simd128' | 'relaxed'] : undefined,
    peers: v['no-peers'] !== true, command: `${PROGRAM} bench ${process.argv.slice(3).filter((a) => a !== '--resume').join(' ')}`.trim(),
    packageName: `bitnet-wasm ${(await import('./main.js')).version()}`, log,
  };
  const runtimes = v.runtime as string[] | undefined;
  if (!runtimes) return runBench(options);
  // The same suite in another runtime: a child CLI (Node, Deno, Bun) takes these arguments.
  const childArgs = ['bench', '--suite', v.suite as string, '-p', list(v['n-prompt']).join(','), '-n', list(v['n-gen']).join(','), '-r', String(v.repetitions),
    ...(v.threads ? ['-t', list(v.threads).join(',')] : []), ...(v['kernel-models'] ? ['--kernel-models', (v['kernel-models'] as string[]).join(',')] : []), ...(v.quick ? ['--quick'] : []), ...(v.build ? ['--build', v.build as string] : []),
    ...(presets ? ['--presets', presets.join(','), '--types', types.join(','), '--models-dir', modelsDir] : v.model ? ['-m', v.model as string] : []), '--no-peers', '-o', 'json'];
  const all = runtimes.includes('all') ? [...BENCH_RUNTIMES] : runtimes;
  // --report: the run so far is saved as each runtime finishes; --resume goes on from it.
  const dir = v.report as string | undefined;
  const resume = v.resume ? await savedRun(join(dir!, 'run.json'), options.command, log) : undefined;
  const save = dir ? async (r: BenchRun) => { await saveReport(dir, r); log(`saved the run so far to ${join(dir, 'run.json')}`); } : undefined;
  const r = await runWithRuntimes(all, runtimeFamily(), options, childArgs, log, { save, resume });
  return runSoFar(r, [], options.command) ?? mergeRuns(r); // mergeRuns says why nothing ran
}

/** --resume: the saved run of the same command, or nothing to go on from. */
async function savedRun(file: string, command: string, log: (l: string) => void): Promise<BenchRun | undefined> {
  if (!existsSync(file)) { log(`--resume: no ${file} yet, every runtime runs`); return undefined; }
  const run = await readRun(file);
  if (run.command !== command) throw new BitnetError('BAD_ARGUMENT', `--resume: ${file} is a run of \`${run.command}\`, not of this command; run without --resume or give another --report DIR`);
  return run;
}

/** The command's behaviour without --suite: one table row per (-p, -n) pair. */
async function singleModel(v: Values, io: Parameters<Command['run']>[1]): Promise<void> {
  const ps = list(v['n-prompt']), ns = list(v['n-gen']);
  const many = ps.length > 1 || ns.length > 1;
  // -t N,..: one model per thread count, a row each (llama-bench), on a runtime started with the most
  // (a runtime's first init fixes whether it has workers at all); without -t, init's default ('auto').
  const counts = v.threads === undefined ? [undefined] : list(v.threads);
  for (const [k, threads] of counts.entries()) {
    const model = await openModel({ ...v, threads: threads && Math.max(...(counts as number[])) }, io, undefined, threads);
    try {
      const p = Math.max(...ps), n = Math.max(...ns);
      if (p + n > model.contextLength) throw new BitnetError('CONTEXT_OVERFLOW', `-p ${p} + -n ${n} tokens do not fit the context of ${model.contextLength} (-c sets it)`);
      if (k === 0) {
        io.err(`${PROGRAM}: ${describeModel(model)}`);
        io.out(`| model | build | kernel | threads | pp${ps.length === 1 ? ps[0] : ''} tok/s | tg${ns.length === 1 ? ns[0] : ''} tok/s |${many ? ' p | n |' : ''}`);
        io.out(`| --- | --- | --- | ---: | ---: | ---: |${many ? ' ---: | ---: |' : ''}`);
      }
      for (const p of ps) {
        for (const n of ns) {
          const r = model.bench({ prompt: p, gen: n });
          io.out(`| ${(v.model as string | undefined) ?? 'default'} | ${kernelInfo().build} | ${model.kernel} | ${model.threads} | ${r.prefillTokensPerSecond.toFixed(1)} | ${n ? r.decodeTokensPerSecond.toFixed(1) : '-'} |${many ? ` ${p} | ${n} |` : ''}`);
        }
      }
    } finally {
      model.dispose();
    }
  }
}
