// Structure-aware mutations of GGUF model files: edits of metadata values and keys, tensor names,
// shapes, types and data (NaN / Inf floats), chat-template bombs, then byte-level damage (flips,
// huge counts, truncation) on the written file. Deterministic for a given PRNG.
import { GGML_MAX_NAME_BYTES, type GGUFValue } from '../../src/gguf/index.js';
import { join, split, type Parts } from '../hostile/rewrite.js';

type Rand = () => number;
const pick = <T>(r: Rand, a: readonly T[]): T => a[Math.floor(r() * a.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);

const NUMBERS = [0, 1, 2, 3, 7, 255, 256, 4095, 65535, 2 ** 24, 2 ** 31 - 1, 2 ** 32 - 1, -1, -(2 ** 31), 1e-30, 1e30, NaN, Infinity, -Infinity, 0.5];
const STRINGS = ['', '__proto__', 'constructor', 'toString', 'llama', 'gpt2', 'bitnet', 'llama3', 'default', 'x'.repeat(300), '\u0000', '{{', '\ud800'.slice(0, 1)];
const TEMPLATES = [
  '{% for i in range(10**9) %}x{% endfor %}', '{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}',
  ' '.repeat(100_000), '{{ messages[0].content * 3 }}', '{% set ns = namespace(a=[1]) %}{% for i in range(40) %}{% set ns.a = ns.a + ns.a %}{% endfor %}',
  '{{ raise_exception("no") }}', '{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}', '{{ ' + '('.repeat(5000) + '1' + ')'.repeat(5000) + ' }}', '{{ x.y.z }}', '{% if %}',
];
const TENSOR_KINDS = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down', 'attn_norm', 'ffn_norm', 'attn_sub_norm', 'ffn_sub_norm'];

function mutateValue(r: Rand, v: GGUFValue): GGUFValue {
  if (v.type === 'string') return { type: 'string', value: r() < 0.7 ? pick(r, STRINGS) : v.value.slice(0, int(r, v.value.length + 1)) };
  if (v.type === 'array') {
    const a = v.value as ArrayLike<unknown> & { slice(a?: number, b?: number): unknown };
    const choice = int(r, 4);
    if (choice === 0) return { ...v, value: a.slice(0, int(r, a.length + 1)) } as GGUFValue;
    if (choice === 1 && v.itemType === 'string') {
      const s = Array.from(a as string[]); if (s.length) s[int(r, s.length)] = pick(r, STRINGS); return { ...v, value: s } as GGUFValue;
    }
    if (choice === 2 && v.itemType !== 'string' && v.itemType !== 'array' && v.itemType !== 'bool' && a.length) {
      const c = (a as unknown as { slice(): Record<number, unknown> }).slice(); const n = pick(r, NUMBERS);
      c[int(r, a.length)] = typeof c[0] === 'bigint' ? BigInt(Math.trunc(Number.isFinite(n) ? Math.abs(n) : 1)) : n; return { ...v, value: c } as GGUFValue;
    }
    return { type: 'array', itemType: 'array', value: Array.from({ length: int(r, 5) }, () => ({ type: 'array', itemType: 'u8', value: new Uint8Array(0) })) } as unknown as GGUFValue;
  }
  if (v.type === 'bool') return { type: 'bool', value: r() < 0.5 };
  const n = pick(r, NUMBERS);
  if (v.type === 'f32' || v.type === 'f64') return { type: v.type, value: n };
  if (r() < 0.2) return { type: 'f32', value: n }; // a wrong type
  if (v.type === 'u64' || v.type === 'i64') return { type: v.type, value: BigInt(Math.trunc(Number.isFinite(n) ? Math.abs(n) : 0)) } as GGUFValue;
  const lo = v.type.startsWith('u') ? 0 : -(2 ** (Number(v.type.slice(1)) - 1)), hi = 2 ** Number(v.type.slice(1)) - (v.type.startsWith('u') ? 1 : 2 ** (Number(v.type.slice(1)) - 1)) - 1;
  const x = Math.trunc(Number.isFinite(n) ? n : 0);
  return { type: v.type, value: Math.min(hi, Math.max(lo, x)) } as GGUFValue;
}

function poison(r: Rand, t: Parts['tensors'][number]): void {
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const v = pick(r, [NaN, Infinity, -Infinity, 3e38, 65504]);
  if (t.type === 0 && t.data.length >= 4) dv.setFloat32(4 * int(r, t.data.length / 4), v, true);
  else if (t.type === 1 && t.data.length >= 2) dv.setUint16(2 * int(r, t.data.length / 2), pick(r, [0x7c00, 0xfc00, 0x7e00, 0x7bff]), true);
  else if (t.data.length) for (let k = 0; k < 1 + int(r, 8); k++) t.data[int(r, t.data.length)] = int(r, 256);
}

/** One structural edit of the parsed file. */
const EDITS: ((r: Rand, p: Parts) => void)[] = [
  (r, p) => { const k = pick(r, [...p.metadata.keys()]); p.metadata.set(k, mutateValue(r, p.metadata.get(k)!)); },
  (r, p) => { const k = pick(r, [...p.metadata.keys()]); p.metadata.delete(k); },
  (r, p) => { p.metadata.set(pick(r, ['__proto__', 'constructor', 'tokenizer.ggml.pre', 'x.y', 'bitnet.rope.dimension_count']), mutateValue(r, pick(r, [{ type: 'u32', value: 0 }, { type: 'string', value: 'x' }, { type: 'f32', value: 0 }] as GGUFValue[]))); },
  (r, p) => p.metadata.set('tokenizer.chat_template', { type: 'string', value: pick(r, TEMPLATES) }),
  (r, p) => { const t = pick(r, p.tensors); t.name = pick(r, [`blk.${int(r, 40)}.${pick(r, TENSOR_KINDS)}.weight`, `blk.0.${pick(r, TENSOR_KINDS)}.scale`, 'output.weight', 'rope_freqs.weight', 'x'.repeat(int(r, GGML_MAX_NAME_BYTES))]); },
  (r, p) => { p.tensors.splice(int(r, p.tensors.length), 1); },
  (r, p) => { const t = pick(r, p.tensors); p.tensors.push({ ...t, name: `${t.name}.dup${int(r, 9)}`, data: t.data.slice() }); },
  (r, p) => poison(r, pick(r, p.tensors)),
  (r, p) => { const t = pick(r, p.tensors); if (t.shape.length > 1) t.shape.reverse(); },
  (r, p) => { // a different type of the same byte size, or a same-type tensor moved under another name
    const t = pick(r, p.tensors), u = pick(r, p.tensors); if (t.data.length === u.data.length) { const s = t.type; t.type = u.type; u.type = s; const sh = t.shape; t.shape = u.shape; u.shape = sh; }
  },
];

/** Byte-level damage of a written file (its header mostly). */
function damage(r: Rand, b: Uint8Array): Uint8Array {
  const out = b.slice();
  const head = Math.min(out.length, 1 << 16);
  switch (int(r, 4)) {
    case 0: for (let k = 0; k < 1 + int(r, 6); k++) out[int(r, head)] ^= 1 << int(r, 8); return out;
    case 1: { const at = int(r, head - 8); new DataView(out.buffer).setBigUint64(at, pick(r, [0n, 1n, 0xffffffffn, 1n << 40n, (1n << 64n) - 1n]), true); return out; }
    case 2: return out.slice(0, int(r, out.length));
    default: { const at = int(r, head); return new Uint8Array([...out.subarray(0, at), ...out.subarray(at + int(r, 16))]); }
  }
}

/** A mutant of `seed`: 1-3 structural edits, sometimes byte damage too. */
export async function mutate(r: Rand, seed: Uint8Array): Promise<Uint8Array> {
  if (r() < 0.2) return damage(r, seed);
  const p = await split(seed);
  for (let k = 0; k < 1 + int(r, 3); k++) pick(r, EDITS)(r, p);
  let bytes: Uint8Array;
  try { bytes = join(p); } catch { return damage(r, seed); } // an edit the writer refuses: damage bytes instead
  return r() < 0.15 ? damage(r, bytes) : bytes;
}
