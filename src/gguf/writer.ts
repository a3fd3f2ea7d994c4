/**
 * GGUF v3 writer: explicit value types in, a complete file out. Used to build test models and
 * conversion outputs; the layout matches gguf-py / llama.cpp (tensors in order, each padded to the
 * alignment, the last one too) so llama.cpp accepts what we write.
 */
import { BitnetError } from '../errors.js';
import { GGUF_VALUE_TYPES, type GGUFArrayValue, type GGUFValue, type GGUFValueType } from './metadata.js';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC } from './reader.js';
import { elementCount, ggmlTypeInfo, tensorByteSize, type GGMLTypeName } from './types.js';

export interface GGUFWriteTensor {
  name: string;
  /** GGUF order: shape[0] is the row length. */
  shape: readonly number[];
  type: number | GGMLTypeName;
  /** Float32Array: encoded with the type's encoder. Int8Array: ternary values in {-1,0,1}, times
   *  `scale`, then encoded. Uint8Array: already-encoded bytes, written as they are. */
  data: Float32Array | Int8Array | Uint8Array;
  /** Value of a +1 weight when data is an Int8Array (default 1). */
  scale?: number;
}

export interface GGUFWriteOptions {
  metadata?: Record<string, GGUFValue> | Map<string, GGUFValue> | Iterable<readonly [string, GGUFValue]>;
  tensors?: readonly GGUFWriteTensor[];
  /** Data alignment; written as general.alignment (u32) when given. Default 32. */
  alignment?: number;
  /** 3 by default; 2 has the same layout (for testing readers). */
  version?: 2 | 3;
}

/** ggml's GGML_MAX_NAME is 64 including the NUL: llama.cpp rejects longer tensor names. */
export const GGML_MAX_NAME_BYTES = 63;

const enc = new TextEncoder();

function bad(message: string): never {
  throw new BitnetError('BAD_ARGUMENT', message);
}

/** Growable little-endian byte buffer. */
class ByteWriter {
  private buf = new Uint8Array(1024);
  private dv = new DataView(this.buf.buffer);
  len = 0;

  private reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < this.len + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
      this.dv = new DataView(next.buffer);
    }
    const o = this.len;
    this.len += n;
    return o;
  }

  // Reserve before touching dv: reserve() may replace the buffer (and dv) when it grows.
  u8(v: number) { const o = this.reserve(1); this.dv.setUint8(o, v); }
  i8(v: number) { const o = this.reserve(1); this.dv.setInt8(o, v); }
  u16(v: number) { const o = this.reserve(2); this.dv.setUint16(o, v, true); }
  i16(v: number) { const o = this.reserve(2); this.dv.setInt16(o, v, true); }
  u32(v: number) { const o = this.reserve(4); this.dv.setUint32(o, v, true); }
  i32(v: number) { const o = this.reserve(4); this.dv.setInt32(o, v, true); }
  f32(v: number) { const o = this.reserve(4); this.dv.setFloat32(o, v, true); }
  f64(v: number) { const o = this.reserve(8); this.dv.setFloat64(o, v, true); }
  u64(v: bigint) { const o = this.reserve(8); this.dv.setBigUint64(o, v, true); }
  i64(v: bigint) { const o = this.reserve(8); this.dv.setBigInt64(o, v, true); }
  bytes(b: Uint8Array) { const o = this.reserve(b.length); this.buf.set(b, o); }
  pad(alignment: number) {
    const n = (alignment - (this.len % alignment)) % alignment;
    const o = this.reserve(n);
    this.buf.fill(0, o, this.len);
  }
  result(): Uint8Array { return this.buf.slice(0, this.len); }
}

function utf8Bytes(s: string, what: string): Uint8Array {
  if (typeof s !== 'string') bad(`${what} must be a string`);
  // Lone surrogates would silently become U+FFFD: refuse instead of writing something else.
  const isWellFormed = (s as string & { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof isWellFormed === 'function' && !isWellFormed.call(s)) bad(`${what} has unpaired surrogates`);
  return enc.encode(s);
}

function writeString(w: ByteWriter, s: string, what: string): void {
  const b = utf8Bytes(s, what);
  w.u64(BigInt(b.length));
  w.bytes(b);
}

const INT_RANGE: Record<string, [number, number]> = {
  u8: [0, 0xff], i8: [-0x80, 0x7f], u16: [0, 0xffff], i16: [-0x8000, 0x7fff], u32: [0, 0xffffffff], i32: [-0x80000000, 0x7fffffff],
};

function toBig(v: unknown, t: 'u64' | 'i64', what: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else return bad(`${what}: ${t} value must be a bigint or safe integer`);
  const ok = t === 'u64' ? b >= 0n && b < 1n << 64n : b >= -(1n << 63n) && b < 1n << 63n;
  if (!ok) bad(`${what}: ${b} out of ${t} range`);
  return b;
}

function writeScalar(w: ByteWriter, t: GGUFValueType, v: unknown, what: string): void {
  switch (t) {
    case 'string': return writeString(w, v as string, what);
    case 'bool':
      if (typeof v !== 'boolean') bad(`${what}: bool value must be a boolean`);
      return w.u8(v ? 1 : 0);
    case 'u64': return w.u64(toBig(v, t, what));
    case 'i64': return w.i64(toBig(v, t, what));
    case 'f32':
    case 'f64':
      if (typeof v !== 'number') bad(`${what}: ${t} value must be a number`);
      return t === 'f32' ? w.f32(v) : w.f64(v);
    default: {
      const r = INT_RANGE[t];
      if (!r) bad(`${what}: unknown value type ${String(t)}`);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < r[0] || v > r[1]) bad(`${what}: ${String(v)} is not a valid ${t}`);
      (w[t as 'u8'] as (x: number) => void).call(w, v);
    }
  }
}

function typeId(t: GGUFValueType, what: string): number {
  const id = GGUF_VALUE_TYPES.indexOf(t);
  if (id < 0) bad(`${what}: unknown value type ${String(t)}`);
  return id;
}

function writeArrayBody(w: ByteWriter, a: GGUFArrayValue, what: string, depth: number): void {
  if (depth > 8) bad(`${what}: arrays nested too deeply`);
  const items = a.value as ArrayLike<unknown>;
  if (!items || typeof items.length !== 'number') bad(`${what}: array value must be array-like`);
  w.u32(typeId(a.itemType, what));
  w.u64(BigInt(items.length));
  for (let i = 0; i < items.length; i++) {
    if (a.itemType === 'array') {
      const inner = items[i] as GGUFArrayValue;
      if (!inner || inner.type !== 'array') bad(`${what}[${i}]: nested items must be { type: 'array', ... }`);
      writeArrayBody(w, inner, `${what}[${i}]`, depth + 1);
    } else {
      writeScalar(w, a.itemType, items[i], `${what}[${i}]`);
    }
  }
}

function writeValue(w: ByteWriter, v: GGUFValue, what: string): void {
  if (!v || typeof v !== 'object') bad(`${what}: value must be { type, value }`);
  w.u32(typeId(v.type, what));
  if (v.type === 'array') writeArrayBody(w, v, what, 0);
  else writeScalar(w, v.type, v.value, what);
}

function metadataEntries(m: GGUFWriteOptions['metadata']): [string, GGUFValue][] {
  if (!m) return [];
  if (m instanceof Map) return [...m.entries()];
  if (Symbol.iterator in (m as object)) return [...(m as Iterable<readonly [string, GGUFValue]>)].map(([k, v]) => [k, v]);
  return Object.entries(m as Record<string, GGUFValue>);
}

/** Encoded bytes for one tensor, validated against its type and shape. */
export function encodeTensorData(t: GGUFWriteTensor): Uint8Array {
  const info = ggmlTypeInfo(t.type);
  if (!info) throw new BitnetError('UNSUPPORTED_TYPE', `tensor "${t.name}": unknown ggml type ${String(t.type)}`);
  const size = tensorByteSize(info.id, t.shape as number[]);
  const n = elementCount(t.shape as number[]);
  if (t.data instanceof Uint8Array) {
    if (t.data.length !== size) bad(`tensor "${t.name}": ${info.name} ${t.shape.join('x')} needs ${size} encoded bytes, got ${t.data.length}`);
    return t.data;
  }
  let values: Float32Array;
  if (t.data instanceof Int8Array) {
    const s = t.scale ?? 1;
    values = new Float32Array(t.data.length);
    for (let i = 0; i < t.data.length; i++) {
      const q = t.data[i];
      if (q < -1 || q > 1) bad(`tensor "${t.name}": Int8Array data must be ternary, found ${q} at ${i}`);
      values[i] = q * s;
    }
  } else if (t.data instanceof Float32Array) {
    values = t.data;
  } else {
    return bad(`tensor "${t.name}": data must be a Float32Array, Int8Array or Uint8Array`);
  }
  if (values.length !== n) bad(`tensor "${t.name}": shape ${t.shape.join('x')} has ${n} elements, data has ${values.length}`);
  if (!info.quantize) throw new BitnetError('UNSUPPORTED_TYPE', `tensor "${t.name}": no encoder for ${info.name}; pass encoded bytes`);
  const bytes = info.quantize(values);
  if (bytes.length !== size) throw new BitnetError('BAD_ARGUMENT', `internal: ${info.name} encoder gave ${bytes.length} bytes, expected ${size}`);
  return bytes;
}

/**
 * The file as a sequence of chunks: the header (metadata + tensor infos + padding), then each
 * tensor's encoded bytes and its padding. Tensors are encoded one at a time as the generator is
 * advanced, so a large model can be written to a stream without holding the whole file. Sizes and
 * shapes are validated before the first chunk; value errors (non-ternary Int8Array data) surface
 * when that tensor is reached.
 */
export function* writeGGUFChunks(options: GGUFWriteOptions): Generator<Uint8Array, void, undefined> {
  const entries = metadataEntries(options.metadata);
  const keys = new Set<string>();
  for (const [k] of entries) {
    if (keys.has(k)) bad(`duplicate metadata key "${k}"`);
    keys.add(k);
  }
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const existing = entries.find(([k]) => k === 'general.alignment')?.[1];
  if (existing) {
    if (existing.type !== 'u32') bad('general.alignment must be u32');
    alignment = existing.value;
    if (options.alignment !== undefined && options.alignment !== alignment) bad(`alignment ${options.alignment} conflicts with general.alignment ${alignment}`);
  } else if (options.alignment !== undefined) {
    alignment = options.alignment;
    entries.push(['general.alignment', { type: 'u32', value: alignment }]);
  }
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment > 0xffffffff || (alignment & (alignment - 1)) !== 0) {
    bad(`alignment ${alignment} is not a power of two`);
  }

  const tensors = options.tensors ?? [];
  const names = new Set<string>();
  const sizes: number[] = [];
  for (const t of tensors) {
    const nameBytes = utf8Bytes(t.name, 'tensor name');
    if (nameBytes.length === 0 || nameBytes.length > GGML_MAX_NAME_BYTES) bad(`tensor name "${t.name}" must be 1..${GGML_MAX_NAME_BYTES} bytes`);
    if (names.has(t.name)) bad(`duplicate tensor name "${t.name}"`);
    names.add(t.name);
    if (!Array.isArray(t.shape) || t.shape.length > 4) bad(`tensor "${t.name}": shape must have 0..4 dimensions`);
    const info = ggmlTypeInfo(t.type);
    if (!info) throw new BitnetError('UNSUPPORTED_TYPE', `tensor "${t.name}": unknown ggml type ${String(t.type)}`);
    const size = tensorByteSize(info.id, t.shape as number[]);
    const n = elementCount(t.shape as number[]);
    const ok = t.data instanceof Uint8Array ? t.data.length === size : (t.data instanceof Float32Array || t.data instanceof Int8Array) && t.data.length === n;
    if (!ok) bad(`tensor "${t.name}": data length ${t.data?.length} does not fit ${info.name} [${t.shape.join(', ')}] (${n} values or ${size} encoded bytes)`);
    if (!(t.data instanceof Uint8Array) && !info.quantize) throw new BitnetError('UNSUPPORTED_TYPE', `tensor "${t.name}": no encoder for ${info.name}; pass encoded bytes`);
    sizes.push(size);
  }

  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(options.version ?? 3);
  w.u64(BigInt(tensors.length));
  w.u64(BigInt(entries.length));
  for (const [k, v] of entries) {
    writeString(w, k, 'metadata key');
    writeValue(w, v, `"${k}"`);
  }
  let offset = 0;
  tensors.forEach((t, i) => {
    writeString(w, t.name, 'tensor name');
    w.u32(t.shape.length);
    for (const d of t.shape) w.u64(BigInt(d));
    w.u32(ggmlTypeInfo(t.type)!.id);
    w.u64(BigInt(offset));
    offset += Math.ceil(sizes[i] / alignment) * alignment;
  });
  w.pad(alignment);
  yield w.result();
  for (const [i, t] of tensors.entries()) {
    const b = encodeTensorData(t);
    yield b;
    const pad = (alignment - (sizes[i] % alignment)) % alignment;
    if (pad) yield new Uint8Array(pad);
  }
}

/** Builds a complete GGUF file in memory. */
export function writeGGUF(options: GGUFWriteOptions): Uint8Array {
  const chunks = [...writeGGUFChunks(options)];
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
