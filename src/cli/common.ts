// What the model commands (run, logits, perplexity, bench) share: their I/O, the model options and
// opening the model once the command line has been checked.
import { existsSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { POOL } from '../../bindings/abi.js';
import { defaultModelUrl } from '../default-model.js';
import { init, kernelInfo, MAX_THREADS } from '../init.js';
import { loadModel, type Model } from '../model/model.js';
import { checkReadable, describeError, OutputClosed } from './errors.js';
import type { CommandSpec, Option, Values } from './options.js';

export interface CliIO {
  /** A line on stdout. */
  out(line: string): void;
  /** A line on stderr. */
  err(line: string): void;
  /** Text on stdout as it comes (generation). */
  write(text: string): void;
}

/** Blocking writes straight to the file descriptor: a closed pipe (`| head`) is an EPIPE thrown
 *  right at the write, which stops generation at once (process.stdout would buffer in memory
 *  and report it only after the whole generation). */
function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length;) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2); continue; } // a non-blocking pipe is full
      if (code === 'EPIPE') throw new OutputClosed();
      throw e;
    }
  }
}

export const defaultIO: CliIO = {
  out: (l) => writeAll(1, l + '\n'),
  err: (l) => { try { writeAll(2, l + '\n'); } catch { /* stderr closed: nothing left to tell */ } },
  write: (t) => writeAll(1, t),
};

export const PROGRAM = 'bitnet-wasm';

/** The model shipped with the package (models/default.gguf). */
export const DEFAULT_MODEL = fileURLToPath(defaultModelUrl());
/** package.json: next to dist/ (this file is bundled there) or, in the source tree, two levels up. */
export const packageJsonPath = () => ['../package.json', '../../package.json'].map((p) => fileURLToPath(new URL(p, import.meta.url))).find((p) => existsSync(p)) ?? 'package.json';

/** A command: its option table and what it does with checked values. */
export interface Command {
  spec: CommandSpec;
  /** Rules across options that the table cannot express (throw UsageError). */
  check?(v: Values): void;
  run(v: Values, io: CliIO): Promise<void>;
}

export const MODEL_OPTION: Option = { name: 'model', short: 'm', kind: 'file', arg: 'FILE', help: 'GGUF model file', defaultText: 'the shipped model, models/default.gguf' };
export const MODEL_POSITIONAL = { name: 'MODEL', help: 'GGUF model file', option: 'model' };
/** --build: which wasm build init() takes (load commands and serve). */
/** -t: run's, bench's (a list there) and serve's threads (llama.cpp's spelling). */
export const THREADS_OPTION: Option = { name: 'threads', short: 't', kind: 'int', arg: 'N', min: 1, max: MAX_THREADS, defaultText: 'the cores the runtime reports, at most 8, and which jobs go to the workers measured at load', help: 'threads (the same output for every count)' };
export const BUILD_OPTION: Option = { name: 'build', kind: 'choice', arg: 'NAME', choices: ['simd128', 'relaxed'], defaultText: 'relaxed where the engine has relaxed SIMD, else simd128', help: 'wasm build' };

/** -m / MODEL, or the shipped model. */
export const modelFile = (v: Values): string => (v.model as string | undefined) ?? DEFAULT_MODEL;

/** -c, -b, -t, --build: how the model is loaded. */
export function loadOptions(ctx: Pick<Option, 'default' | 'defaultText' | 'help' | 'min'>): Option[] {
  return [
    { name: 'ctx-size', short: 'c', aliases: ['ctx'], kind: 'int', arg: 'N', min: 1, max: 1 << 20, ...ctx },
    { name: 'batch-size', short: 'b', kind: 'int', arg: 'N', min: 1, max: 4096, default: 32, help: 'prefill batch: tokens per forward call' },
    THREADS_OPTION,
    BUILD_OPTION,
    { name: 'verbose', short: 'v', kind: 'flag', help: 'say which kernels and threads were chosen at load, why, and the timings they were chosen by' },
  ];
}

/** Loads the model after the command line has been checked; warnings go to stderr. */
export async function openModel(v: Values, io: CliIO, contextLength = v['ctx-size'] as number | undefined, threads?: number): Promise<Model> {
  const file = modelFile(v);
  await checkReadable(file, 'model');
  await init({ build: v.build as 'simd128' | 'relaxed' | undefined, threads: (v.threads as number | undefined) ?? 'auto' });
  try {
    const model = await loadModel(file, { contextLength, threads, batchSize: v['batch-size'] as number, onWarning: (w) => io.err(`${PROGRAM}: warning: ${w}`) });
    if (v.verbose) for (const line of describeChoices(model)) io.err(`${PROGRAM}: ${line}`);
    return model;
  } catch (e) {
    throw new Error(`model ${file}: ${describeError(e)}`, { cause: e });
  }
}

/** -v: what init's calibration and the model's load chose, why, and the figures they chose by. */
export function describeChoices(model: Model): string[] {
  const i = kernelInfo(), c = i.calibration, d = model.decodeChoice;
  const figures = (role: 'gemvUs' | 'gemmUs') => Object.entries(c.timings).filter(([, t]) => t[role] !== undefined)
    .sort(([, a], [, b]) => a[role]! - b[role]!).map(([k, t]) => `${k} ${t[role]}`).join(', ');
  const lines = [c.timings && Object.keys(c.timings).length
    ? `${i.build} build; kernel calibration (${c.ms} ms, ${c.shape.rows}x${c.shape.cols} on one thread, median us per call of ${c.rounds} rounds; kernels sharing a loop timed once): `
      + `GEMV ${figures('gemvUs')} -> ${c.gemv}; GEMM of ${c.shape.gemmN} tokens ${figures('gemmUs')} -> ${c.gemm}; layout ${c.layoutWhy}`
    : `${i.build} build: one kernel (${c.gemv}), nothing to time`];
  lines.push(`threads: ${i.threadsWhy}; this model ${model.threads}`);
  const kms = Object.entries(d.kernelMs).map(([k, ms]) => `${k} ${ms}`).join(', ');
  lines.push(`decode kernel ${d.kernel}${kms ? ` (timed on this model's layers at ${d.threads} thread${d.threads === 1 ? '' : 's'}, ms per pass: ${kms})` : ''}; prefill kernel ${model.gemmKernel}`);
  lines.push(`decode split: ${d.threads === 1 ? 'none' : d.minWork ? `jobs under ${d.minWork} multiply-adds stay on the calling thread` : `the default (jobs of ${POOL.MIN_WORK_DEFAULT} multiply-adds or more go to the workers)`} (${d.why}); load's measurements ${d.ms} ms`);
  return lines;
}

/** "bitnet 4 layers, simd128 build, tl3 kernel". */
export function describeModel(model: Model): string {
  return `${model.config.architecture} ${model.config.nLayer} layers, context ${model.contextLength}, ${kernelInfo().build} build, ${model.kernel} kernel, ${model.threads} thread${model.threads === 1 ? '' : 's'}`;
}
