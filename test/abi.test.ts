// The wasm ABI: every constant of assembly/abi.ts (compiled into the wasm; GROUP_KEY) equals
// bindings/abi.ts's GROUP.KEY, one to one in both directions. Changing a number on one side only (a
// descriptor word, a kernel id, a flag, a status code) fails here. The constants are read from the
// AssemblyScript source rather than exported by the wasm: exports would add ~1.3 KB to each build.
// Node 20 checks the simd128 build's kernel layouts; scripts/test.mjs runs this file again under
// Node 24 for relaxed.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ABI, D, KERNEL, L, LAYOUT, M, SLOT } from '../bindings/abi.js';
import type { WasmRuntime } from '../bindings/runtime.js';
import { MATRICES } from '../src/model/tensors.js';
import { createRuntime, KERNEL_IDS } from '../src/index.js';
import { LAYOUT_NAMES } from '../bindings/exports.js';

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
    expect(D.WORDS).toBe(D.LAYERS + 1);
    // Every descriptor word is used once, 0..LAYERS.
    expect(Object.entries(D).filter(([k]) => k !== 'WORDS').map(([, v]) => v).sort((a, b) => a - b))
      .toEqual(Array.from({ length: D.LAYERS + 1 }, (_, i) => i));
    expect(MATRICES.length).toBe(SLOT.COUNT);
    expect([MATRICES[SLOT.Q], MATRICES[SLOT.K], MATRICES[SLOT.V], MATRICES[SLOT.O], MATRICES[SLOT.GATE], MATRICES[SLOT.UP], MATRICES[SLOT.DOWN]])
      .toEqual(['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']);
    expect(Object.values(KERNEL_IDS).sort()).toEqual(Array.from({ length: KERNEL.COUNT }, (_, i) => i));
    expect([LAYOUT_NAMES[LAYOUT.I8], LAYOUT_NAMES[LAYOUT.I2], LAYOUT_NAMES[LAYOUT.TL3]]).toEqual(['i8', 'i2', 'tl3']);
  });

  it("each kernel's layout as the wasm reports it", () => {
    const expected = { scalar: 'i8', tl3: 'tl3', 'tl3-relaxed': 'tl3', 'i2-dot32': 'i2', 'i2-dot16': 'i2', 'i2-dot': 'i2' };
    for (const rt of runtimes) {
      for (const [name, id] of Object.entries(KERNEL_IDS)) {
        expect(LAYOUT_NAMES[rt.exports.kernel_layout(id)], `${rt.build} ${name}`).toBe(expected[name as keyof typeof expected]);
      }
    }
  });
});
