// Hand-written mutants: each one small bug (operator flip, off-by-one, constant swap, a value
// ignored) applied to a copy of the repository, which is rebuilt (wasm) and tested with the files
// that should notice (in build/mutants-*, so that the repository itself is never touched). Every mutant must be killed (the tests fail); a survivor means a blind spot.
// StrykerJS cannot mutate AssemblyScript, hence this list; the four src/ entries are the bugs of
// issue 17 that once passed the whole suite.
//
//   npm run mutants:asm [-- --only id,id] [--keep]
//
// Prints a table and writes test-artifacts/asm-mutants.json; exits 1 if any mutant survives or the
// unmutated copy fails its own tests. Takes ~20-30 min on 2 cores (a wasm build per mutant).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const NODE24 = join(ROOT, 'test/node_modules/node24/bin/node');
const KERNELS = ['test/kernels.test.ts'];
const NN = ['test/nn'];
const MODEL = ['test/model/hyperparameters.test.ts'];

// { id, file, find, replace, tests, relaxed?: run on Node 24 with the relaxed build, why }
const MUTANTS = [
  { id: 'tl3-flush-12', file: 'assembly/ternary/lut_tl3.ts', find: 'if (++pending == 9) {', nth: 0, replace: 'if (++pending == 12) {', tests: KERNELS, why: 'TL3 GEMV flushes its i16 sums every 12 super-blocks instead of 9' },
  { id: 'tl3-flush-12-gemm', file: 'assembly/ternary/lut_tl3.ts', find: 'if (++pending == 9) {', nth: 1, replace: 'if (++pending == 12) {', tests: KERNELS, why: 'the same in the second TL3 loop' },
  { id: 'i2-dot16-widen-late', file: 'assembly/ternary/dot_i2.ts', find: 'c0 += 1024) {\n        const cEnd = min(kp, c0 + 1024);', replace: 'c0 += 1536) {\n        const cEnd = min(kp, c0 + 1536);', tests: KERNELS, relaxed: true, why: 'i2-dot16 GEMM widens its i16 sums every 24 chunks instead of 16' },
  { id: 'i2-dot-sumq', file: 'assembly/ternary/dot_i2.ts', find: 'store<i32>(o, hsum(i32x4.add(a0, b0)) - sq);', replace: 'store<i32>(o, hsum(i32x4.add(a0, b0)) - sq + 1);', tests: KERNELS, relaxed: true, why: 'i2-dot32 off by one on the first row of each block' },
  { id: 'scalar-skip-k0', file: 'assembly/ternary/scalar.ts', find: 'for (let k = 0; k < cols; k++) s +=', replace: 'for (let k = 1; k < cols; k++) s +=', tests: KERNELS, why: 'scalar kernel skips the first column' },
  { id: 'quant-step-128', file: 'assembly/quant/absmax_i8.ts', find: 'const step: f32 = amax / 127;', replace: 'const step: f32 = amax / 128;', tests: KERNELS, why: 'activation step amax/128 instead of amax/127' },
  { id: 'rmsnorm-no-eps', file: 'assembly/nn/rmsnorm.ts', find: 'sqrt<f64>(sum / <f64>n + <f64>eps)', replace: 'sqrt<f64>(sum / <f64>n)', tests: NN, why: 'rmsnorm ignores epsilon' },
  { id: 'rmsnorm-n-minus-1', file: 'assembly/nn/rmsnorm.ts', find: 'sqrt<f64>(sum / <f64>n + <f64>eps)', replace: 'sqrt<f64>(sum / <f64>(n - 1) + <f64>eps)', tests: NN, why: 'rmsnorm divides by n - 1' },
  { id: 'rope-base-ignored', file: 'assembly/nn/rope.ts', find: 'const lb = log64(<f64>freqBase);', nth: 0, replace: 'const lb = log64(10000.0);', tests: [...NN, ...MODEL], why: 'rope table ignores the frequency base (always 10000)' },
  { id: 'rope-sign', file: 'assembly/nn/rope.ts', find: 'join_f32(f64x2.sub(f64x2.mul(al, cl), f64x2.mul(bl, sl)),', replace: 'join_f32(f64x2.add(f64x2.mul(al, cl), f64x2.mul(bl, sl)),', tests: NN, why: 'rope rotation sign flipped (SIMD part)' },
  { id: 'rope-tail', file: 'assembly/nn/rope.ts', find: '    for (; i < half; i++) {\n      const o = <usize>i << 2;\n      rotate(', replace: '    for (; i < half - 1; i++) {\n      const o = <usize>i << 2;\n      rotate(', tests: NN, why: 'rope skips the last scalar pair' },
  { id: 'softmax-masked', file: 'assembly/nn/softmax.ts', find: 'const u: f32 = <f32>(1.0 / <f64>n);', replace: 'const u: f32 = <f32>(1.0 / <f64>(n + 1));', tests: NN, why: 'a fully masked row is not uniform' },
  { id: 'softmax-tail', file: 'assembly/nn/softmax.ts', find: 'for (let j = i; j < n; j++) {', replace: 'for (let j = i; j < n - 1; j++) {', tests: NN, why: 'softmax leaves the last tail element out of the sum' },
  { id: 'attn-scale', file: 'assembly/nn/attention.ts', find: 'return <f32>(1.0 / sqrt<f64>(<f64>headDim));', replace: 'return <f32>(1.0 / <f64>headDim);', tests: NN, why: 'attention scale 1/d instead of 1/sqrt(d)' },
  { id: 'attn-gqa-map', file: 'assembly/nn/attention.ts', find: 'const h0 = g * group;', replace: 'const h0 = g;', tests: [...NN, ...MODEL], why: 'GQA maps KV head g to query heads g.. instead of g*group..' },
  { id: 'silu-sign', file: 'assembly/nn/glu.ts', find: 'return x / (1.0 + exp_core(-x));', replace: 'return x / (1.0 + exp_core(x));', tests: NN, why: 'silu uses exp(x) instead of exp(-x) (scalar path)' },
  { id: 'relu-sq-not-squared', file: 'assembly/nn/glu.ts', find: 'v128.store(out + o, f32x4.mul(r, r));', replace: 'v128.store(out + o, r);', tests: NN, why: 'relu_sq forgets the square (SIMD path)' },
  { id: 'fwd-act-flip', file: 'assembly/model/forward.ts', find: 'if (act == 1) relu_sq_mul(', replace: 'if (act == 0) relu_sq_mul(', tests: ['test/model/default-model.test.ts', ...MODEL], why: 'forward swaps SiLU and ReLU^2' },
  { id: 'fwd-rope-type', file: 'assembly/model/forward.ts', find: 'if (ropeType == 1) {', replace: 'if (ropeType == 0) {', tests: MODEL, why: 'forward swaps NEOX and interleaved rope' },
  { id: 'fwd-no-attn-subnorm', file: 'assembly/model/forward.ts', find: 'if (asub) for', replace: 'if (false) for', tests: MODEL, why: 'forward skips attn_sub_norm' },
  { id: 'fwd-eps-ignored', file: 'assembly/model/forward.ts', find: 'eps = wf(desc, D_EPS)', replace: 'eps: f32 = 1e-5', tests: MODEL, why: 'forward ignores the model epsilon (always 1e-5)' },
  { id: 'kv-f16-bias', file: 'assembly/nn/kv_f16.ts', find: '0x77800000, 0x77800000, 0x77800000, 0x77800000, // +16', replace: '0x77000000, 0x77000000, 0x77000000, 0x77000000, // +16', tests: NN, why: 'f16 -> f32 exponent rebias off by one' },
  { id: 'cfg-rope-base', file: 'src/model/config.ts', find: "ropeBase: num(h, k('rope.freq_base'), 10000),", replace: 'ropeBase: 10000,', tests: MODEL, why: 'config ignores rope.freq_base (issue 17)' },
  { id: 'cfg-eps', file: 'src/model/config.ts', find: "rmsEps: num(h, k('attention.layer_norm_rms_epsilon'), 1e-5),", replace: 'rmsEps: 1e-5,', tests: MODEL, why: 'config ignores the RMS epsilon (issue 17)' },
  { id: 'top-p-one-extra', file: 'src/sampling.ts', find: 'if (c >= this.topP) { keep = i + 1; break; }', replace: 'if (c >= this.topP) { keep = Math.min(i + 2, keep); break; }', tests: ['test/sampling.test.ts'], why: 'top-p keeps one token too many (issue 17)' },
  { id: 'min-p-le', file: 'src/sampling.ts', find: 'probs[keep - 1] < t) keep--;', replace: 'probs[keep - 1] <= t) keep--;', tests: ['test/sampling.test.ts'], why: 'min-p drops tokens exactly at the threshold' },
];

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : null;
const list = MUTANTS.filter((m) => !only || only.includes(m.id));

// A copy of the tracked files, with the installed packages linked in.
mkdirSync(join(ROOT, 'build'), { recursive: true });
const copy = mkdtempSync(join(ROOT, 'build', 'mutants-'));
const files = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
for (const f of files) {
  if (!existsSync(join(ROOT, f))) continue;
  mkdirSync(dirname(join(copy, f)), { recursive: true });
  copyFileSync(join(ROOT, f), join(copy, f));
}
for (const d of ['node_modules', 'test/node_modules']) if (existsSync(join(ROOT, d))) symlinkSync(join(ROOT, d), join(copy, d));

const replaceFile = (f, text) => writeFileSync(join(copy, f), text);
const restore = (f) => copyFileSync(join(ROOT, f), join(copy, f));
function build() {
  return spawnSync(process.execPath, ['scripts/build-wasm.mjs'], { cwd: copy, encoding: 'utf8' }).status === 0;
}
function test(m) {
  const node = m.relaxed ? NODE24 : process.execPath;
  const env = { ...process.env, ...(m.relaxed ? { BITNET_TEST_BUILD: 'relaxed' } : {}) };
  const r = spawnSync(node, ['node_modules/vitest/vitest.mjs', 'run', '--bail', '1', ...m.tests], { cwd: copy, encoding: 'utf8', env, timeout: 900_000 });
  const failed = /Tests\s+.*?(\d+) failed/.exec(r.stdout.replace(/\x1b\[[0-9;]*m/g, ''));
  return { status: r.status, failedTests: failed ? Number(failed[1]) : 0 };
}

const results = [];
let bad = 0;
try {
  // The unmutated copy must pass every test file used below, on both kinds of run.
  if (!build()) throw new Error('the unmutated copy does not build');
  for (const relaxed of [false, true]) {
    const tests = [...new Set(list.filter((m) => !!m.relaxed === relaxed).flatMap((m) => m.tests))];
    if (!tests.length) continue;
    const r = test({ tests, relaxed });
    console.log(`baseline (${relaxed ? 'node 24, relaxed' : 'node ' + process.version}): ${tests.join(' ')}: ${r.status === 0 ? 'pass' : 'FAIL'}`);
    if (r.status !== 0) { bad++; throw new Error('the unmutated copy fails its tests: fix that first'); }
  }
  for (const m of list) {
    const src = readFileSync(join(ROOT, m.file), 'utf8');
    const parts = src.split(m.find);
    const nth = m.nth ?? 0;
    if (parts.length < 2 + nth || (m.nth === undefined && parts.length !== 2)) {
      console.log(`${m.id}: the text to mutate is not (uniquely) in ${m.file}: update the list`);
      results.push({ ...m, result: 'STALE' }); bad++; continue;
    }
    const mutated = parts.slice(0, nth + 1).join(m.find) + m.replace + parts.slice(nth + 1).join(m.find);
    replaceFile(m.file, mutated);
    const t0 = Date.now();
    let result;
    if (m.file.startsWith('assembly/') && !build()) result = 'killed (does not compile)';
    else {
      const r = test(m);
      result = r.status !== 0 ? `killed (${r.failedTests || 'a'} failing test${r.failedTests === 1 ? '' : 's'})` : 'SURVIVED';
    }
    restore(m.file);
    if (result === 'SURVIVED') bad++;
    results.push({ id: m.id, file: m.file, why: m.why, tests: m.tests.join(' '), result, seconds: Math.round((Date.now() - t0) / 1000) });
    console.log(`${m.id.padEnd(22)} ${result.padEnd(28)} ${m.why}`);
  }
} finally {
  if (!argv.includes('--keep')) rmSync(copy, { recursive: true, force: true });
}
console.log('\n| # | mutant | file | what | tests | result |\n|---|---|---|---|---|---|');
results.forEach((r, i) => console.log(`| ${i + 1} | ${r.id} | ${r.file} | ${r.why} | ${r.tests} | ${r.result} |`));
mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
writeFileSync(join(ROOT, 'test-artifacts/asm-mutants.json'), JSON.stringify(results, null, 2));
const killed = results.filter((r) => r.result.startsWith('killed')).length;
console.log(`\n${killed} of ${list.length} mutants killed`);
process.exit(bad ? 1 : 0);
