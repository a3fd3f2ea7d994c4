// Fuzz of the whole path load -> tokenize -> generate -> logits -> chat template, each input in its
// own child process with a timeout. Outcomes are counted: ok, BitnetError by code, plain error,
// crash, hang, silent non-finite output; only the first two are allowed, and a BitnetError from file
// bytes must carry its byte offset. `npm test` runs it for
// FUZZ_SECONDS (default 40); `npm run fuzz` for 10 minutes. Failing inputs are written to
// test-artifacts/fuzz-failures/ with their recipe (seed file + PRNG seed); a recipe added to
// regressions.json is replayed by every run (a recipe means the input mutate.ts makes from it: when
// mutate.ts changes, check the recipes still make failing-before inputs, or save those files instead).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeModel, mulberry32 } from '../../src/synth/make-model.js';
import { mutate } from './mutate.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 40);
const TIMEOUT_MS = 30_000; // generous: the machine running npm test may be busy; bombs end in < 1 s
const WASM = 'build/bitnet-simd128.wasm';
const BAD = ['plain', 'crash', 'hang', 'nonfinite'];

// Seed files: make-model variants over the types and tokenizers the loader takes, and the shipped model.
const SEEDS: Record<string, () => Promise<Uint8Array>> = {
  'bpe-tq2-f16': () => makeModel({ preset: 'tiny', config: { nLayer: 2 }, ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 1 }),
  'spm-tq1-q8': () => makeModel({ preset: 'tiny', config: { nLayer: 2 }, ternaryType: 'TQ1_0', embeddingType: 'Q8_0', tokenizer: 'spm', seed: 2 }),
  'bpe-i2s-f32': () => makeModel({ preset: 'tiny', config: { nLayer: 1 }, ternaryType: 'I2_S', embeddingType: 'F32', tokenizer: 'bpe', seed: 3 }),
  'llama-tq2-q6k': () => makeModel({ preset: 'tiny', arch: 'llama', config: { nLayer: 1 }, ternaryType: 'TQ2_0', embeddingType: 'Q6_K', tokenizer: 'spm', seed: 4 }),
  'default.gguf': async () => new Uint8Array(readFileSync('models/default.gguf')),
};

interface Recipe { seed: string; rng: number }
interface Result { outcome: string; code?: string; message?: string; offset?: number }
/** Codes that come from file bytes: their errors must say where (a byte offset). */
const FILE_CODES = ['BAD_GGUF', 'TRUNCATED', 'UNSUPPORTED_TYPE'];

const seeds: Record<string, Uint8Array> = {};
let dir = '', child = '';

beforeAll(async () => {
  for (const [k, f] of Object.entries(SEEDS)) seeds[k] = await f();
  dir = mkdtempSync(join(tmpdir(), 'bitnet-fuzz-'));
  child = join(dir, 'child.mjs');
  await build({ entryPoints: ['test/fuzz/child.ts'], bundle: true, format: 'esm', platform: 'node', outfile: child, logLevel: 'silent' });
}, 120_000);

async function input(rc: Recipe): Promise<Uint8Array> {
  return mutate(mulberry32(rc.rng), seeds[rc.seed]);
}

function runChild(file: string): Promise<Result> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--max-old-space-size=2048', child, file, WASM], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', hung = false;
    const timer = setTimeout(() => { hung = true; p.kill('SIGKILL'); }, TIMEOUT_MS);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { if (err.length < 4000) err += d; });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop();
      if (hung) return resolve({ outcome: 'hang', message: `no answer in ${TIMEOUT_MS} ms` });
      try { if (code === 0 && line) return resolve(JSON.parse(line)); } catch { /* fall through */ }
      resolve({ outcome: 'crash', message: `exit ${code} ${signal ?? ''}: ${err.slice(-1500)}` });
    });
  });
}

async function runOne(rc: Recipe, failures: string): Promise<Result> {
  const bytes = await input(rc);
  const file = join(dir, `in-${rc.seed}-${rc.rng}.gguf`);
  writeFileSync(file, bytes);
  const r = await runChild(file);
  if (BAD.includes(r.outcome)) {
    mkdirSync(failures, { recursive: true });
    writeFileSync(join(failures, `${rc.seed}-${rc.rng}.gguf`), bytes);
    writeFileSync(join(failures, `${rc.seed}-${rc.rng}.json`), JSON.stringify({ recipe: rc, result: r }, null, 2));
  }
  rmSync(file, { force: true });
  return r;
}

const label = (r: Result) => (r.outcome === 'bitnet' ? `BitnetError ${r.code}` : r.outcome);

describe('fuzz: load -> generate -> logits in child processes', () => {
  it('regression recipes (inputs that once failed) end with ok or a BitnetError', async () => {
    const recipes: Recipe[] = JSON.parse(readFileSync('test/fuzz/regressions.json', 'utf8'));
    for (const rc of recipes) {
      const r = await runOne(rc, 'test-artifacts/fuzz-failures');
      expect(BAD, `${rc.seed}/${rc.rng}: ${r.message}`).not.toContain(r.outcome);
    }
  }, 300_000);

  it(`mutants for ${SECONDS} s: no crash, hang, plain error or silent non-finite output`, async () => {
    const counts = new Map<string, number>();
    const bad: string[] = [];
    const deadline = Date.now() + SECONDS * 1000;
    const names = Object.keys(SEEDS);
    const base = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
    let next = 0;
    const worker = async () => {
      while (Date.now() < deadline) {
        const i = next++;
        const rc = { seed: names[i % names.length], rng: base + i };
        const r = await runOne(rc, 'test-artifacts/fuzz-failures');
        counts.set(label(r), (counts.get(label(r)) ?? 0) + 1);
        if (BAD.includes(r.outcome)) bad.push(`${JSON.stringify(rc)} ${r.outcome}: ${r.message?.slice(0, 400)}`);
        if (r.outcome === 'bitnet' && FILE_CODES.includes(r.code!) && typeof r.offset !== 'number') bad.push(`${JSON.stringify(rc)} no byte offset: ${r.message}`);
      }
    };
    await Promise.all([worker(), worker()]);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const table = [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${k}: ${v}`).join('\n');
    console.log(`fuzz: ${total} inputs in ${SECONDS} s (FUZZ_SEED=${base})\n${table}`);
    expect(total).toBeGreaterThan(0);
    expect(bad, bad.join('\n')).toEqual([]);
  }, SECONDS * 1000 + 240_000);
});
