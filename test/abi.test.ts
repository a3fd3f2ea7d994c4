// The wasm ABI: every constant of assembly/abi.ts (compiled into the wasm; GROUP_KEY) equals
// bindings/abi.ts's GROUP.KEY, one to one in both directions. Changing a number on one side only (a
// descriptor word, a kernel id, a flag, a status code) fails here. The constants are read from the
// AssemblyScript source rather than exported by the wasm: exports would add ~1.3 KB to each build.
// Node 20 checks the simd128 build's kernel layouts; scripts/test.mjs runs this file again under
// Node 24 for relaxed.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ABI, D, FUSED, KERNEL, L, LAYOUT, M, POOL, SLOT } from '../bindings/abi.js';
import type { WasmRuntime } from '../bindings/runtime.js';
import { MATRICES } from '../src/model/tensors.js';
import { createRuntime, KERNEL_IDS } from '../src/index.js';
import { KERNELS, LAYOUT_NAMES, LAYOUTS, packedBytes } from '../bindings/kernels.js';

const runtimes: WasmRuntime[] = [];
beforeAll(async () => {
  for (const build of ['simd128', 'relaxed'] as const) {
    try { runtimes.push(await createRuntime({ build })); } catch (e) {
      if (build === 'relaxed' && (e as { code?: string }).code === 'UNSUPPORTED_BUILD') continue;
      throw e;
    }
  }
});

/** assembly/abi.ts's constants by name. Every `export` line must be `export const NAME = <integer>;`
 *  (decimal or hex, optional sign): anything else is an error, so nothing escapes the comparison. */
function asmConstants(source: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of source.split('\n')) {
    if (!/^\s*export\b/.test(line)) continue;
    const m = /^export const ([A-Z][A-Z0-9_]*) = (-?(?:0x[0-9a-fA-F]+|\d+));/.exec(line);
    if (!m) throw new Error(`assembly/abi.ts: not a plain integer constant: ${line}`);
    if (out.has(m[1])) throw new Error(`assembly/abi.ts: ${m[1]} defined twice`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

const tsConstants = new Map(Object.entries(ABI).flatMap(([group, table]) =>
  Object.entries(table).map(([key, value]) => [`${group}_${key}`, value as number] as const)));

/** One line per difference between the two tables (empty: they agree). */
function mismatches(asm: Map<string, number>, ts: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [name, value] of asm) {
    if (!ts.has(name)) out.push(`${name} = ${value} in assembly/abi.ts has no entry in bindings/abi.ts`);
    else if (ts.get(name) !== value) out.push(`${name} is ${value} in assembly/abi.ts but ${ts.get(name)} in bindings/abi.ts`);
  }
  for (const name of ts.keys()) if (!asm.has(name)) out.push(`bindings/abi.ts ${name} is not in assembly/abi.ts`);
  return out;
}

describe('wasm ABI', () => {
  it('every constant of assembly/abi.ts equals the bindings table, and the other way round', () => {
    const asm = asmConstants(readFileSync(new URL('../assembly/abi.ts', import.meta.url), 'utf8'));
    expect(asm.size).toBeGreaterThan(60);
    expect(mismatches(asm, tsConstants)).toEqual([]);
  });

  it('the comparison sees a one-sided change, a missing constant and a non-literal value', () => {
    const src = readFileSync(new URL('../assembly/abi.ts', import.meta.url), 'utf8');
    const edited = asmConstants(src.replace('export const MATMUL_STREAMING = 0x100;', 'export const MATMUL_STREAMING = 0x200;'));
    expect(mismatches(edited, tsConstants)).toEqual(['MATMUL_STREAMING is 512 in assembly/abi.ts but 256 in bindings/abi.ts']);
    const dropped = asmConstants(src.replace(/^export const D_KV_TYPE = .*$/m, ''));
    expect(mismatches(dropped, tsConstants)).toEqual(['bindings/abi.ts D_KV_TYPE is not in assembly/abi.ts']);
    expect(() => asmConstants('export const L_WORDS = L_MATS + 21;')).toThrow(/not a plain integer constant/);
  });

  it('the tables are consistent with themselves: word counts, slot names, kernel names, layout names', () => {
    expect(L.WORDS).toBe(L.MATS + SLOT.COUNT * M.WORDS);
    // A fused job: its words, then FUSED.MAX matrices of M_WORDS each; Q, K, V and gate, up are
    // consecutive slots (forward.ts fuses slot, slot + 1[, slot + 2]).
    expect(FUSED.WORDS).toBe(FUSED.MATS + FUSED.MAX * FUSED.M_WORDS);
    expect([FUSED.KERNEL, FUSED.COLS, FUSED.N, FUSED.X, FUSED.SCRATCH, FUSED.COUNT].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect([FUSED.M_W, FUSED.M_ROWS, FUSED.M_SCALE, FUSED.M_OUT].sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect([SLOT.K - SLOT.Q, SLOT.V - SLOT.K, SLOT.UP - SLOT.GATE]).toEqual([1, 1, 1]);
    expect(D.WORDS).toBe(D.LAYERS + 1);
    // Every descriptor word is used once, 0..LAYERS.
    expect(Object.entries(D).filter(([k]) => k !== 'WORDS').map(([, v]) => v).sort((a, b) => a - b))
      .toEqual(Array.from({ length: D.LAYERS + 1 }, (_, i) => i));
    expect(MATRICES.length).toBe(SLOT.COUNT);
    expect([MATRICES[SLOT.Q], MATRICES[SLOT.K], MATRICES[SLOT.V], MATRICES[SLOT.O], MATRICES[SLOT.GATE], MATRICES[SLOT.UP], MATRICES[SLOT.DOWN]])
      .toEqual(['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']);
    // The kernel and layout tables have one row per id, in id order.
    expect(KERNELS.map((k) => k.id)).toEqual(Array.from({ length: KERNEL.COUNT }, (_, i) => i));
    expect(Object.values(KERNEL_IDS).sort()).toEqual(Array.from({ length: KERNEL.COUNT }, (_, i) => i));
    expect(LAYOUTS.map((l) => l.id)).toEqual(Array.from({ length: LAYOUT.COUNT }, (_, i) => i));
    expect([LAYOUT_NAMES[LAYOUT.I8], LAYOUT_NAMES[LAYOUT.I2], LAYOUT_NAMES[LAYOUT.TL3]]).toEqual(['i8', 'i2', 'tl3']);
    // Thread pool control block: distinct words inside the block, the job's arguments clear of the
    // other words, and the words every thread writes (DONE, NEXT) on 64-byte lines of their own.
    // (WORKER_OP_PIECES is a run of OP_COUNT words, one per job kind.)
    const words = Object.entries(POOL).filter(([k]) => !/^(WORDS|ARG_COUNT|OP_|MIN_WORK_DEFAULT)/.test(k))
      .flatMap(([k, v]) => (k === 'WORKER_OP_PIECES' ? Array.from({ length: POOL.OP_COUNT }, (_, i) => v + i) : [v]));
    expect(Object.entries(POOL).filter(([k]) => /^OP_/.test(k) && k !== 'OP_COUNT').every(([, v]) => v > 0 && v < POOL.OP_COUNT)).toBe(true);
    expect(new Set(words).size).toBe(words.length);
    for (const w of words) expect(w).toBeLessThan(POOL.WORDS);
    for (const w of words) if (w !== POOL.ARGS) expect(w >= POOL.ARGS && w < POOL.ARGS + POOL.ARG_COUNT).toBe(false);
    expect(POOL.ARGS + POOL.ARG_COUNT).toBeLessThanOrEqual(POOL.DONE);
    const line = (w: number) => Math.floor(w * 4 / 64);
    expect(new Set([line(POOL.SEQ), line(POOL.DONE), line(POOL.NEXT)]).size).toBe(3);
    expect(POOL.NEXT).toBeLessThan(POOL.WORDS);
  });

  it("the wasm's kernel table answers what bindings/kernels.ts's rows say: layout, which build has it", () => {
    expect(runtimes.length).toBeGreaterThan(0);
    for (const rt of runtimes) {
      const relaxed = rt.exports.has_relaxed() === 1;
      for (const k of KERNELS) {
        expect(LAYOUT_NAMES[rt.exports.kernel_layout(k.id)], `${rt.build} ${k.name}`).toBe(k.layout);
        expect(rt.exports.kernel_available(k.id), `${rt.build} ${k.name}`).toBe(!k.relaxed || relaxed ? 1 : 0);
      }
      for (const id of [-1, KERNEL.COUNT, 0xff]) expect(rt.exports.kernel_available(id), `id ${id}`).toBe(0);
    }
  });

  it("the wasm's layout table answers what bindings/kernels.ts's rows say: padding multiples, packed bytes", () => {
    const sizes = [1, 3, 4, 15, 16, 17, 23, 24, 25, 63, 64, 65, 100, 256, 2560, 6912];
    for (const rt of runtimes) {
      const e = rt.exports;
      for (const l of LAYOUTS) {
        for (const n of sizes) {
          expect(e.padded_rows(l.id, n), `${l.name} rows ${n}`).toBe(Math.ceil(n / l.rowMultiple) * l.rowMultiple);
          expect(e.padded_cols(l.id, n), `${l.name} cols ${n}`).toBe(Math.ceil(n / l.colMultiple) * l.colMultiple);
          for (const m of [1, 24, 64, 2560]) expect(e.packed_bytes(l.id, n, m), `${l.name} ${n} x ${m}`).toBe(packedBytes(l.name, n, m));
        }
      }
      // The formula as the layouts' own descriptions give it (assembly/ternary/layouts.ts).
      expect(packedBytes('i8', 5, 7)).toBe(35);
      expect(packedBytes('i2', 5, 65)).toBe(8 * 128 / 4);
      expect(packedBytes('tl3', 17, 25)).toBe(32 * (48 / 24) * 5 + 32 * 4);
    }
  });
});
