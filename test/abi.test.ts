// The wasm ABI: every constant assembly/abi.ts compiles into the module (exported as a global
// GROUP_KEY) equals bindings/abi.ts's GROUP.KEY, one to one in both directions. Changing a number
// on one side only (a descriptor word, a kernel id, a flag, a status code) fails here.
// Node 20 checks the simd128 build; scripts/test.mjs runs this file again under Node 24 for relaxed.
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

/** The module's exported globals by name (the ABI constants; nothing else is a global export). */
function wasmConstants(rt: WasmRuntime): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, v] of Object.entries(rt.exports as unknown as Record<string, unknown>)) {
    if (v instanceof WebAssembly.Global) out.set(name, Number(v.value));
  }
  return out;
}

const tsConstants = new Map(Object.entries(ABI).flatMap(([group, table]) =>
  Object.entries(table).map(([key, value]) => [`${group}_${key}`, value as number] as const)));

describe('wasm ABI', () => {
  it('every exported constant of each build equals the bindings table, and the other way round', () => {
    expect(runtimes.map((r) => r.build)).toContain('simd128');
    for (const rt of runtimes) {
      const wasm = wasmConstants(rt);
      expect(wasm.size).toBeGreaterThan(60);
      const mismatches: string[] = [];
      for (const [name, value] of wasm) {
        if (!tsConstants.has(name)) mismatches.push(`${rt.build}: ${name} = ${value} has no entry in bindings/abi.ts`);
        else if (tsConstants.get(name) !== value) mismatches.push(`${rt.build}: ${name} is ${value} in the wasm but ${tsConstants.get(name)} in bindings/abi.ts`);
      }
      for (const name of tsConstants.keys()) if (!wasm.has(name)) mismatches.push(`${rt.build}: bindings/abi.ts ${name} is not exported by the wasm`);
      expect(mismatches).toEqual([]);
    }
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
