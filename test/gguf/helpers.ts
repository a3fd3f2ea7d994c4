/** Shared test utilities: a seeded PRNG and a raw little-endian byte builder for hand-made files. */

/** mulberry32: small, fast, deterministic (the one make-model uses). */
export { mulberry32 as prng } from '../../src/synth/make-model.js';

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** Roughly normal values (sum of uniforms), scaled. */
export function randomFloats(r: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() + r() + r() - 1.5) * scale;
  return out;
}

export function randomTernary(r: () => number, n: number, zeroBlockEvery = 0, block = 256): Int8Array {
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) out[i] = randInt(r, -1, 1);
  if (zeroBlockEvery) for (let b = 0; b * block < n; b += zeroBlockEvery) out.fill(0, b * block, (b + 1) * block);
  return out;
}

/** Raw GGUF byte builder: writes whatever it is told, including nonsense. */
export class Raw {
  private parts: number[] = [];
  u8(v: number) { this.parts.push(v & 0xff); return this; }
  u32(v: number) { for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff); return this; }
  u64(v: bigint | number) {
    let b = BigInt(v);
    for (let i = 0; i < 8; i++) { this.parts.push(Number(b & 0xffn)); b >>= 8n; }
    return this;
  }
  bytes(b: ArrayLike<number>) { for (let i = 0; i < b.length; i++) this.parts.push(b[i]); return this; }
  str(s: string) { const b = new TextEncoder().encode(s); return this.u64(b.length).bytes(b); }
  /** A key with a u32 value. */
  kvU32(k: string, v: number) { return this.str(k).u32(4).u32(v); }
  padTo(alignment: number) { while (this.parts.length % alignment) this.parts.push(0); return this; }
  zeros(n: number) { for (let i = 0; i < n; i++) this.parts.push(0); return this; }
  get length() { return this.parts.length; }
  build(): Uint8Array { return Uint8Array.from(this.parts); }
}

/** GGUF header prefix: magic, version, tensor count, kv count. */
export function ggufHead(version: number, nTensors: bigint | number, nKV: bigint | number): Raw {
  return new Raw().bytes([0x47, 0x47, 0x55, 0x46]).u32(version).u64(nTensors).u64(nKV);
}
