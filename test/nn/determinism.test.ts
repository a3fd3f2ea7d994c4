// Same inputs, same bits: every math/nn kernel on the simd128 and the relaxed build, and a
// golden digest of all outputs so that other engines (Node 20 / 24, Deno, Bun, browsers) can be
// checked against the same bits. The relaxed build needs relaxed SIMD (Node 24:
// test/node_modules/node24/bin/node node_modules/vitest/vitest.mjs run test/nn); on Node 20 that
// comparison is skipped and the digest is still checked for simd128.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { getF32, prng, put, randF32, relaxedOrNull, simd128, type Raw } from './helpers.js';
import type { WasmRuntime } from '../../bindings/runtime.js';

// sha256 of battery() below; update it only on a deliberate change of the arithmetic.
const GOLDEN = '27bc756b8eca1049d25c75d8c299a02b876520b7d79ee72342d7baae82fcfe84';

/** Runs every kernel on fixed inputs; returns all outputs as bytes. */
function battery(rt: WasmRuntime, e: Raw, eps = 1e-5): Uint8Array {
  const parts: Uint8Array[] = [];
  const keep = (a: Float32Array | Float64Array | Int32Array) => parts.push(new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
  const rnd = prng(99);
  const n = 1027;
  const x = randF32(n, rnd, 9), y = randF32(n, rnd, 2);
  // Edge values, none so large that it would swamp rmsnorm's mean square and hide its epsilon.
  x[3] = -0; x[10] = 1e-40; x[11] = 88.5; x[12] = -104; x[13] = 30;
  // scalar math
  const s = new Float64Array(5 * 400);
  for (let i = 0; i < 400; i++) {
    const v = Math.fround((rnd() - 0.5) * 200), w = Math.fround(rnd() * 1e4);
    s[5 * i] = e.expf(v); s[5 * i + 1] = e.logf(w); s[5 * i + 2] = e.sinf(w * 1e3); s[5 * i + 3] = e.cosf(v);
    s[5 * i + 4] = e.powf(w, Math.fround(v / 50));
  }
  keep(s);
  const px = put(rt, x), py = put(rt, y), po = rt.alloc(4 * n);
  const unary = (name: string) => { e[name](px, n, po); keep(getF32(rt, po, n)); };
  const binary = (name: string) => { e[name](px, py, n, po); keep(getF32(rt, po, n)); };
  unary('vexpf'); unary('silu'); unary('relu_sq');
  binary('silu_mul'); binary('relu_sq_mul'); binary('add'); binary('mul');
  e.rmsnorm(px, py, n, eps, po); keep(getF32(rt, po, n));
  e.rmsnorm(px, 0, n, eps / 10, po); keep(getF32(rt, po, n));
  // A small vector (mean square ~1e-5): the epsilon changes every output here.
  const small = put(rt, randF32(n, rnd, 0.005));
  e.rmsnorm(small, py, n, eps, po); keep(getF32(rt, po, n));
  rt.free(small);
  keep(new Float64Array([e.logsumexp(px, n), e.argmax(px, n)]));
  new Float32Array(rt.exports.memory.buffer, po, n).set(x);
  e.softmax(po, n); keep(getF32(rt, po, n));
  new Float32Array(rt.exports.memory.buffer, po, n).set(x);
  e.softmax_f32(po, n); keep(getF32(rt, po, n));
  unary('vexpf_f32');
  // rope
  const pt = rt.alloc(e.rope_table_bytes(128));
  for (const pos of [0, 1, 77, 4095, 100000]) { e.rope_table(pos, 128, 500000, pt); keep(getF32(rt, pt, 128)); }
  const q = randF32(20 * 128, rnd), pq = put(rt, q);
  e.rope_apply(pq, 20, 128, 128, pt); keep(getF32(rt, pq, 20 * 128));
  e.rope_neox(pq, 20, 128, 96, 333, 10000); keep(getF32(rt, pq, 20 * 128));
  // attention, 20 heads / 5 kv heads, 100 positions
  const nPos = 100, kv = nPos * 5 * 128;
  const pk = put(rt, randF32(kv, rnd)), pv = put(rt, randF32(kv, rnd)), pa = rt.alloc(4 * 20 * 128);
  const ps = rt.alloc(e.attention_scratch_bytes(20, 5, 128, nPos));
  keep(new Int32Array([e.attention(pq, pk, pv, 20, 5, 128, nPos, pa, ps)]));
  keep(getF32(rt, pa, 20 * 128));
  // f16 cache: convert k and v, then attention_f16
  const pk16 = rt.alloc(2 * kv), pv16 = rt.alloc(2 * kv);
  e.kv_store_f16(pk, kv, pk16); e.kv_store_f16(pv, kv, pv16);
  e.kv_load_f16(pk16, kv, pk); keep(getF32(rt, pk, kv));
  keep(new Int32Array([e.attention_f16(pq, pk16, pv16, 20, 5, 128, nPos, pa, ps)]));
  keep(getF32(rt, pa, 20 * 128));
  for (const p of [px, py, po, pt, pq, pk, pv, pa, ps, pk16, pv16]) rt.free(p);
  const all = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return all;
}

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let base: { rt: WasmRuntime; e: Raw };
let relaxed: { rt: WasmRuntime; e: Raw } | null;
beforeAll(async () => { base = await simd128(); relaxed = await relaxedOrNull(); });

describe('determinism', () => {
  it('gives the golden digest on simd128', () => {
    const d = digest(battery(base.rt, base.e));
    console.log(`nn/math battery digest (simd128, node ${process.version}): ${d}`);
    expect(d).toBe(GOLDEN);
  });

  it('the digest sees rmsnorm\'s epsilon (1e-5 vs 1e-6)', () => {
    expect(digest(battery(base.rt, base.e, 1e-6))).not.toBe(digest(battery(base.rt, base.e)));
  });

  it('gives identical bits on the relaxed build (skipped where relaxed SIMD is unavailable)', (ctx) => {
    if (!relaxed) ctx.skip();
    const a = battery(base.rt, base.e), b = battery(relaxed!.rt, relaxed!.e);
    expect(b.length).toBe(a.length);
    expect(digest(b)).toBe(digest(a));
  });

  it('is repeatable: a second run on the same instance gives the same bits', () => {
    expect(digest(battery(base.rt, base.e))).toBe(digest(battery(base.rt, base.e)));
  });
});
