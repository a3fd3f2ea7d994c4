// The conformance set: fixed inputs and the code that turns them into SHA-256 hashes of outputs.
// Plain JavaScript with no imports, executed unchanged by every host (Node, Deno, Bun, Chromium,
// Firefox, workerd): the host passes in the library it loaded (dist/index.js, dist/browser.js or
// dist/workerd.js) and the model bytes (conformance/tiny.gguf), so every hash comes from the same code.
//
// Inputs: kernel cases (ternary weights and f32 activations from a fixed xorshift32 stream, shapes
// that hit full and partial SIMD blocks), the tiny model file, a prompt and a seed. Outputs hashed:
// GEMV and GEMM results of every kernel the build has (all kernels must agree, then one hash per
// case), last-position logits of the prompt (every kernel), and 64 sampled tokens.

export const MODEL_FILE = 'tiny.gguf';
/** SHA-256 of conformance/tiny.gguf: makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 7 }). */
export const MODEL_SHA256 = 'b6dfdaec07fe4e2b9cc5fe9bdabcbd4ee8a5c6735b9a3a3ab55bc6ffaec0fd32';
export const PROMPT = 'Once upon a time, the ternary weights said:';
export const SEED = 1234;
export const MAX_TOKENS = 64;
export const SAMPLING = { temperature: 0.9, topK: 40, topP: 0.95, seed: SEED };

// rows x cols, GEMM rows n, weight scale, stream seed.
export const KERNEL_CASES = [
  { name: '16x48', rows: 16, cols: 48, n: 3, scale: 0.5, seed: 1 },
  { name: '37x301', rows: 37, cols: 301, n: 5, scale: 0.0123, seed: 2 },
  { name: '64x1024', rows: 64, cols: 1024, n: 4, scale: 1.75, seed: 3 },
  { name: '130x2050', rows: 130, cols: 2050, n: 7, scale: 0.031, seed: 4 },
  { name: '256x1536', rows: 256, cols: 1536, n: 32, scale: 0.02, seed: 5 },
];

function xorshift32(seed) {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

/** Weights in {-1,0,1} (about a third each, with runs of equal trits) and activations that include
 *  a zero row, exact halfway points of the int8 rounding, large and tiny magnitudes, negative zero. */
export function caseInputs(c) {
  const next = xorshift32(c.seed);
  const t = new Int8Array(c.rows * c.cols);
  for (let i = 0; i < t.length; i++) {
    const r = next();
    t[i] = (r & 15) === 0 ? t[Math.max(0, i - 1)] : (r % 3) - 1;
  }
  const x = new Float32Array(c.n * c.cols);
  for (let j = 0; j < c.n; j++) {
    const row = x.subarray(j * c.cols, (j + 1) * c.cols);
    if (j === 1) continue; // all zeros: step 0, output 0
    const mag = [1, 1e-3, 300, 1e-30, 7][j % 5];
    for (let k = 0; k < c.cols; k++) {
      const r = next();
      // integers and half-integers over [-127, 127] times mag: many exact rounding ties
      row[k] = Math.fround((((r % 509) - 254) / 2) * mag);
    }
    row[0] = Math.fround(127 * mag); // amax known: step = mag, so half-integers are exact ties
    if (c.cols > 3) row[3] = -0;
  }
  return { t, x };
}

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

/** SHA-256 of the bytes of a typed array (little-endian on every engine here). */
export async function sha256(view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Runs every case on one build. `lib` is the library namespace, `modelBytes` a Uint8Array of
 * tiny.gguf. Returns { build, kernels, hashes: { case: sha256 }, errors: [], decodeTokPerSec, ... }.
 * Never throws for a wrong answer: a mismatch between kernels becomes an error entry and a hash
 * of 'kernel-mismatch'.
 */
export async function runConformance(lib, { build, modelBytes, log = () => {}, threads = 1 }) {
  const out = { build, threads: 1, kernels: [], hashes: {}, errors: [], decodeTokPerSec: null, generateTokPerSec: null, text: '' };
  const modelHash = await sha256(modelBytes);
  if (modelHash !== MODEL_SHA256) out.errors.push(`model input hash ${modelHash} is not ${MODEL_SHA256}`);
  // threads > 1: a runtime with workers on a shared memory (where the host has them; else 1 thread
  // and a note, which the runner checks): the hashes must not change.
  const rt = await lib.createRuntime({ build, threads });
  try {
    return await runCases(lib, rt, out, { modelBytes, log });
  } finally {
    rt.closeThreads?.();
  }
}

async function runCases(lib, rt, out, { modelBytes, log }) {
  const build = out.build;
  out.build = rt.build;
  out.threads = rt.threads ?? 1;
  const kernels = lib.KERNEL_NAMES.filter((k) => rt.exports.kernel_available(lib.KERNEL_IDS[k]) === 1);
  out.kernels = kernels;

  const agree = (name, perKernel) => {
    const values = Object.values(perKernel);
    if (values.every((v) => v === values[0])) out.hashes[name] = values[0];
    else {
      out.hashes[name] = 'kernel-mismatch';
      out.errors.push(`${name}: kernels disagree: ${Object.entries(perKernel).map(([k, v]) => `${k}=${v.slice(0, 12)}`).join(' ')}`);
    }
  };

  for (const c of KERNEL_CASES) {
    const { t, x } = caseInputs(c);
    const gemv = {}, gemm = {};
    for (const kernel of kernels) {
      const W = lib.TernaryMatrix.fromTernary(t, c.rows, c.cols, c.scale, { runtime: rt, kernel });
      try {
        gemv[kernel] = await sha256(W.gemv(x.subarray(0, c.cols)));
        gemm[kernel] = await sha256(W.gemm(x, c.n));
      } finally {
        W.dispose();
      }
    }
    agree(`gemv ${c.name}`, gemv);
    agree(`gemm ${c.name}x${c.n}`, gemm);
    log(`${build}: kernel case ${c.name} done`);
  }

  // Model: last-position logits with every kernel; sampled generation with the build's default.
  const logits = {};
  let ids = null;
  for (const kernel of kernels) {
    const model = await lib.loadModel(modelBytes, { runtime: rt, kernel });
    try {
      ids = ids ?? model.tokenize(PROMPT);
      logits[kernel] = await sha256(model.logits(ids));
    } finally {
      model.dispose();
    }
  }
  out.hashes['prompt tokens'] = await sha256(Int32Array.from(ids));
  agree('logits', logits);
  // The f16 KV cache (loadModel({ cacheType: 'f16' })): its own bits, the same everywhere.
  const m16 = await lib.loadModel(modelBytes, { runtime: rt, cacheType: 'f16' });
  try {
    out.hashes['logits, f16 KV cache'] = await sha256(m16.logits(ids));
  } finally {
    m16.dispose();
  }
  log(`${build}: logits done`);

  const model = await lib.loadModel(modelBytes, { runtime: rt });
  try {
    const g = await model.generate(PROMPT, { maxTokens: MAX_TOKENS, ...SAMPLING });
    if (g.tokens.length !== MAX_TOKENS) out.errors.push(`generate gave ${g.tokens.length} tokens, not ${MAX_TOKENS} (${g.finishReason})`);
    out.hashes[`${MAX_TOKENS} sampled tokens`] = await sha256(Int32Array.from(g.tokens));
    out.hashes['sampled text'] = await sha256(new TextEncoder().encode(g.text));
    out.text = g.text;
    out.generateTokPerSec = g.stats.decodeTokensPerSecond;
    // Decode speed: 256 single-token greedy steps after a 16-token prompt (Model.bench). Also timed
    // from outside, gen 256 minus gen 0, each after a macrotask: workerd's clock stands still
    // during synchronous code and only moves across I/O, so its in-call figure is meaningless.
    const tick = () => new Promise((r) => setTimeout(r, 0));
    const timed = async (gen) => { await tick(); const t0 = now(); const r = model.bench({ prompt: 16, gen }); await tick(); return { ms: now() - t0, r }; };
    await timed(16); // warm-up
    const full = await timed(256), base = await timed(0);
    const inner = full.r.decodeTokensPerSecond;
    out.decodeTiming = { inner, fullMs: full.ms, baseMs: base.ms };
    out.decodeTokPerSec = Number.isFinite(inner) && inner > 0 && full.ms > 0 ? inner
      : full.ms > base.ms ? 256 / ((full.ms - base.ms) / 1000) : null;
  } finally {
    model.dispose();
  }
  log(`${build}: generation done`);
  return out;
}

/** Everything a host reports: default selection, then both builds (a build the engine cannot run is
 *  recorded as unavailable with the library's reason, never as a result). */
export async function runAll(lib, { modelBytes, runtime, version, log = () => {}, threads = [] }) {
  const report = { runtime, version, selected: null, notes: [], builds: {}, threaded: {} };
  try {
    const info = await lib.init();
    report.selected = info.build;
    report.notes = info.notes;
  } catch (e) {
    report.initError = { code: e.code, message: e.message };
    return report;
  }
  // report.builds: one thread; report.threaded[n]: the same cases with n threads (`threads`).
  for (const n of [1, ...threads]) {
    const into = n === 1 ? report.builds : (report.threaded[n] = {});
    for (const build of ['simd128', 'relaxed']) {
      try {
        into[build] = await runConformance(lib, { build, modelBytes, log, threads: n });
      } catch (e) {
        if (e && e.code === 'UNSUPPORTED_BUILD') into[build] = { unavailable: e.message };
        else into[build] = { error: `${e && e.code ? e.code + ': ' : ''}${e && e.message}`, stack: String(e && e.stack).slice(0, 2000) };
      }
    }
  }
  return report;
}
