/**
 * Incremental GGUF (v2, v3) reader. It pulls only the bytes it needs from a ByteSource, checks
 * every count and length against what can exist before allocating, and reports each problem as a
 * BitnetError with a code and the byte offset where it was found. Tensor data is delivered
 * separately, in file order, to a caller's sink (e.g. straight into wasm memory).
 */
import { BitnetError, type BitnetErrorCode } from '../errors.js';
import { GGUF_VALUE_TYPES, minItemBytes, type GGUFArrayValue, type GGUFValue, type GGUFValueType } from './metadata.js';
import { toByteSource, type ByteSource, type GGUFInput } from './source.js';
import { ggmlTypeInfo } from './types.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Hard caps: far above any real model, far below what would exhaust memory. They bound work on
 *  sources whose size is unknown (streams), where "exceeds the remaining bytes" cannot be checked. */
export const GGUF_LIMITS = {
  maxTensors: 1 << 20,
  maxKV: 1 << 20,
  maxStringBytes: 1 << 26,
  maxArrayItems: 1 << 27,
  maxArrayDepth: 8,
  maxTensorNameBytes: 1024,
  maxDims: 4,
  /** Memory the parsed metadata and tensor infos may take: proportional to the file size (8 bytes
   *  per file byte, plus 16 MiB), and 1 GiB at most. Many empty nested arrays used to amplify a
   *  12 MB file to 687 MB. Charged as parsed, with estimates of V8's object sizes. */
  metadataBytesPerFileByte: 8,
  metadataBaseBytes: 16 * 2 ** 20,
  maxMetadataBytes: 2 ** 30,
  /** Elements per tensor must stay below this (2^40): larger shapes are corrupt counts. */
  maxElements: 2 ** 40,
} as const;

export interface GGUFTensorInfo {
  name: string;
  /** GGUF order: shape[0] = ne[0], the row length (fastest-varying). */
  shape: number[];
  /** ggml type id and its name from the type table. */
  type: number;
  typeName: string;
  /** Offset relative to the data section (as stored). */
  offset: number;
  /** Offset in the file. */
  absoluteOffset: number;
  byteSize: number;
  nElements: number;
  /** Where this tensor's info record starts in the file. */
  infoOffset: number;
}

export interface GGUFHeader {
  version: number;
  metadata: Map<string, GGUFValue>;
  /** In file order of the info records. */
  tensors: GGUFTensorInfo[];
  alignment: number;
  /** Absolute offset of the data section. */
  dataOffset: number;
  /** Bytes of header + metadata + tensor infos, before the alignment padding. */
  headerBytes: number;
  /** File size when the source knows it. */
  fileSize?: number;
  /** Where each metadata key's record starts in the file (for errors about its value). */
  metadataOffsets?: Map<string, number>;
}

export interface ParseOptions {
  /** First read size; reads double up to 8 MiB while metadata keeps coming. Default 64 KiB. */
  readAhead?: number;
}

function fail(code: BitnetErrorCode, message: string, offset: number): never {
  throw new BitnetError(code, `${message} (at byte ${offset})`, { offset });
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Forward-only window over a ByteSource. */
class Cursor {
  pos = 0;
  private buf = new Uint8Array(0);
  private bufStart = 0;
  private dv = new DataView(this.buf.buffer);
  private readAhead: number;

  constructor(
    private readonly src: ByteSource,
    readAhead: number,
  ) {
    this.readAhead = readAhead;
  }

  /** Read each time: some sources (HTTP ranges) learn their size from the first response. */
  get size(): number | undefined {
    return this.src.size;
  }

  get remaining(): number {
    return this.size === undefined ? Infinity : this.size - this.pos;
  }

  /** Estimated bytes of JS memory the parsed values hold so far. */
  private held = 0;

  private get budget(): number {
    const L = GGUF_LIMITS;
    return Math.min(L.maxMetadataBytes, L.metadataBaseBytes + L.metadataBytesPerFileByte * (this.size ?? Infinity));
  }

  /** Counts `bytes` of parsed values against the metadata budget; BAD_GGUF at `at` past it. */
  charge(bytes: number, what: string, at: number): void {
    this.held += bytes;
    const budget = this.budget;
    if (this.held > budget) {
      fail('BAD_GGUF', `${what}: the metadata would take more than ${Math.round(budget / 2 ** 20)} MiB of memory (its budget for a file of this size)`, at);
    }
  }

  /**
   * The next strings of an array, up to `max`, that lie whole in the window, pushed to `out` with
   * one UTF-8 decode for them all (a vocabulary's 400k strings one by one, each with its own await,
   * BigInt length and view, took most of a model's load time). Returns how many were taken: 0 when
   * the next one is not whole in the window or needs readString's checks to fail (a length past the
   * limit or the budget). -k when the k strings scanned hold invalid UTF-8: nothing is taken, and
   * the caller reads them one by one so that readString names the bad one.
   */
  strings(out: string[], max: number, maxBytes: number): number {
    const buf = this.buf, dv = this.dv, end = this.bufStart + buf.length, budget = this.budget;
    let p = this.pos - this.bufStart, n = 0, bytes = 0, held = this.held;
    const first = p;
    // Scan: lengths, and the bytes' total, until a string is not whole here or is one to refuse.
    while (n < max && p + 8 <= buf.length) {
      const len = dv.getUint32(p, true);
      if (dv.getUint32(p + 4, true) !== 0 || len > maxBytes || this.bufStart + p + 8 + len > end) break;
      if (held + VALUE_BYTES + 2 * len > budget) break;
      held += VALUE_BYTES + 2 * len;
      bytes += len;
      p += 8 + len;
      n++;
    }
    if (n === 0) return 0;
    // Their bytes back to back, and each one's length in UTF-16 units: one per byte that starts a
    // character, two for a 4-byte sequence (a surrogate pair).
    const cat = new Uint8Array(bytes), units = new Uint32Array(n);
    let ok = true;
    for (let i = 0, q = first, w = 0; i < n; i++) {
      const len = dv.getUint32(q, true);
      q += 8;
      // Valid as a whole + every string starting on a character = every string valid on its own.
      if (len > 0 && (buf[q] & 0xc0) === 0x80) ok = false;
      let u = 0;
      for (const e = q + len; q < e; q++) {
        const b = buf[q];
        cat[w++] = b;
        u += ((b & 0xc0) !== 0x80 ? 1 : 0) + (b >= 0xf0 ? 1 : 0);
      }
      units[i] = u;
    }
    let text: string;
    try {
      if (!ok) return -n;
      text = utf8.decode(cat);
    } catch {
      return -n;
    }
    for (let i = 0, c = 0; i < n; i++) {
      out.push(text.slice(c, c + units[i]));
      c += units[i];
    }
    this.held = held;
    this.pos = this.bufStart + p;
    return n;
  }

  has(n: number): boolean {
    return this.pos + n <= this.bufStart + this.buf.length;
  }

  /** Makes n bytes at pos available, or throws TRUNCATED at pos. */
  async fill(n: number, what: string): Promise<void> {
    if (this.has(n)) return;
    if (n > this.remaining) fail('TRUNCATED', `${what}: needs ${n} bytes, ${this.remaining} remain`, this.pos);
    if (this.src.readInto && this.size !== undefined) return this.fillInto(n, what);
    const parts: Uint8Array[] = [this.buf.subarray(this.pos - this.bufStart)];
    let have = parts[0].length;
    const start = this.pos;
    while (have < n) {
      // Ask for at least readAhead; never more than 64 MiB per read so a wild count on an
      // unknown-size stream grows memory only with bytes that actually exist.
      const want = Math.min(Math.max(n - have, this.readAhead), 1 << 26);
      const chunk = await this.src.read(start + have, want);
      if (chunk.length === 0) fail('TRUNCATED', `${what}: needs ${n} bytes, file ends after ${have}`, start);
      // Copy: source chunks may be views that the next read reuses or that alias the file.
      parts.push(chunk);
      have += chunk.length;
      if (this.readAhead < 1 << 23) this.readAhead *= 2;
    }
    const next = new Uint8Array(have);
    let w = 0;
    for (const p of parts) {
      next.set(p, w);
      w += p.length;
    }
    this.buf = next;
    this.bufStart = start;
    this.dv = new DataView(next.buffer);
  }

  /** fill() for a source of known size that reads into a buffer: what is left of the window and the
   *  next read share one new buffer (no buffer per read, one copy less; a header of 8 MB took 16 MB
   *  of reads' buffers, each fresh memory). The bytes up to n exist: fill() checked the size. */
  private async fillInto(n: number, what: string): Promise<void> {
    const start = this.pos, rest = this.buf.subarray(start - this.bufStart);
    const want = Math.min(Math.max(n - rest.length, this.readAhead), this.size! - start - rest.length);
    const next = new Uint8Array(rest.length + want);
    next.set(rest);
    const got = await this.src.readInto!(start + rest.length, next.subarray(rest.length));
    if (rest.length + got < n) fail('TRUNCATED', `${what}: needs ${n} bytes, file ends after ${rest.length + got}`, start);
    if (this.readAhead < 1 << 23) this.readAhead *= 2;
    this.buf = got === want ? next : next.subarray(0, rest.length + got);
    this.bufStart = start;
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  private at(n: number): number {
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }

  u8(): number { return this.buf[this.at(1)]; }
  i8(): number { return this.dv.getInt8(this.at(1)); }
  u16(): number { return this.dv.getUint16(this.at(2), true); }
  i16(): number { return this.dv.getInt16(this.at(2), true); }
  u32(): number { return this.dv.getUint32(this.at(4), true); }
  i32(): number { return this.dv.getInt32(this.at(4), true); }
  f32(): number { return this.dv.getFloat32(this.at(4), true); }
  f64(): number { return this.dv.getFloat64(this.at(8), true); }
  u64(): bigint { return this.dv.getBigUint64(this.at(8), true); }
  i64(): bigint { return this.dv.getBigInt64(this.at(8), true); }
  bytes(n: number): Uint8Array {
    const o = this.at(n);
    return this.buf.subarray(o, o + n);
  }
}

/** u64 count/length as a number, rejecting values above `max`. */
function countFrom(v: bigint, max: number, what: string, offset: number): number {
  if (v > BigInt(max)) fail('BAD_GGUF', `${what} ${v} exceeds the limit ${max}`, offset);
  return Number(v);
}

/** Rejects `count` items of at least `minBytes` each when the source is too small to hold them. */
function checkFits(c: Cursor, count: number, minBytes: number, what: string, offset: number): void {
  if (count * minBytes > c.remaining) {
    fail('TRUNCATED', `${what}: ${count} items need at least ${count * minBytes} bytes, only ${c.remaining} remain`, offset);
  }
}

async function readString(c: Cursor, what: string, maxBytes: number = GGUF_LIMITS.maxStringBytes): Promise<string> {
  const at = c.pos;
  if (!c.has(8)) await c.fill(8, `${what} length`);
  const len = countFrom(c.u64(), maxBytes, `${what} length`, at);
  if (len > c.remaining) fail('TRUNCATED', `${what}: length ${len} exceeds the ${c.remaining} remaining bytes`, at);
  c.charge(VALUE_BYTES + 2 * len, what, at);
  if (!c.has(len)) await c.fill(len, what);
  const raw = c.bytes(len);
  try {
    return utf8.decode(raw);
  } catch {
    return fail('BAD_GGUF', `${what} is not valid UTF-8`, at + 8);
  }
}

function valueType(id: number, offset: number): GGUFValueType {
  const t = GGUF_VALUE_TYPES[id];
  if (t === undefined) fail('BAD_GGUF', `unknown metadata value type ${id}`, offset);
  return t;
}

async function readValue(c: Cursor, t: GGUFValueType, what: string, depth: number): Promise<GGUFValue> {
  switch (t) {
    case 'string':
      return { type: t, value: await readString(c, what) };
    case 'array':
      return readArray(c, what, depth + 1);
    case 'bool': {
      const at = c.pos;
      if (!c.has(1)) await c.fill(1, what);
      const b = c.u8();
      if (b > 1) fail('BAD_GGUF', `${what}: bool byte is ${b}, not 0 or 1`, at);
      return { type: t, value: b === 1 };
    }
    default: {
      const n = minItemBytes(t);
      if (!c.has(n)) await c.fill(n, what);
      if (t === 'u64') return { type: t, value: c.u64() };
      if (t === 'i64') return { type: t, value: c.i64() };
      return { type: t, value: readNumber(c, t) };
    }
  }
}

function readNumber(c: Cursor, t: GGUFValueType): number {
  switch (t) {
    case 'u8': return c.u8();
    case 'i8': return c.i8();
    case 'u16': return c.u16();
    case 'i16': return c.i16();
    case 'u32': return c.u32();
    case 'i32': return c.i32();
    case 'f32': return c.f32();
    default: return c.f64();
  }
}

/** Estimated V8 bytes of one parsed value (object, array or string header); measured ~200 for an
 *  empty nested array with its wrapper object. */
const VALUE_BYTES = 200;

const TYPED: Record<string, new (n: number) => ArrayLike<number | bigint> & { [i: number]: number | bigint }> = {
  u8: Uint8Array, i8: Int8Array, u16: Uint16Array, i16: Int16Array, u32: Uint32Array, i32: Int32Array,
  f32: Float32Array, f64: Float64Array, u64: BigUint64Array, i64: BigInt64Array,
};

async function readArray(c: Cursor, what: string, depth: number): Promise<GGUFArrayValue> {
  const at = c.pos;
  if (depth > GGUF_LIMITS.maxArrayDepth) fail('BAD_GGUF', `${what}: arrays nested deeper than ${GGUF_LIMITS.maxArrayDepth}`, at);
  if (!c.has(12)) await c.fill(12, `${what} array header`);
  const itemType = valueType(c.u32(), at);
  const count = countFrom(c.u64(), GGUF_LIMITS.maxArrayItems, `${what} array count`, at + 4);
  const itemBytes = minItemBytes(itemType);
  checkFits(c, count, itemBytes, `${what} array`, at + 4);
  // The array object itself; strings and nested arrays charge their own, fixed-size items here.
  c.charge(VALUE_BYTES + (itemType === 'string' || itemType === 'array' ? 8 : itemType === 'bool' ? 8 : itemBytes) * count, `${what} array`, at);

  if (itemType === 'string') {
    const out: string[] = [];
    // Runs decoded at once from the window; readString for the one that needs a read or an error,
    // and one by one through a run that holds invalid UTF-8.
    for (let slow = 0; out.length < count;) {
      const n = slow > 0 ? 0 : c.strings(out, count - out.length, GGUF_LIMITS.maxStringBytes);
      if (n < 0) slow = -n;
      else if (n === 0) { out.push(await readString(c, `${what}[${out.length}]`)); slow--; }
    }
    return { type: 'array', itemType, value: out };
  }
  if (itemType === 'array') {
    const out: GGUFArrayValue[] = [];
    for (let i = 0; i < count; i++) out.push(await readArray(c, `${what}[${i}]`, depth + 1));
    return { type: 'array', itemType, value: out };
  }
  // Fixed-size items: make the whole run available once, then decode without awaiting.
  const start = c.pos;
  await c.fill(count * itemBytes, `${what} array items`);
  if (itemType === 'bool') {
    const raw = c.bytes(count);
    const out: boolean[] = new Array(count);
    for (let i = 0; i < count; i++) {
      if (raw[i] > 1) fail('BAD_GGUF', `${what}[${i}]: bool byte is ${raw[i]}`, start + i);
      out[i] = raw[i] === 1;
    }
    return { type: 'array', itemType, value: out };
  }
  const out = new TYPED[itemType](count);
  if (itemType === 'u64') for (let i = 0; i < count; i++) out[i] = c.u64();
  else if (itemType === 'i64') for (let i = 0; i < count; i++) out[i] = c.i64();
  else for (let i = 0; i < count; i++) out[i] = readNumber(c, itemType);
  return { type: 'array', itemType, value: out } as GGUFArrayValue;
}

/**
 * Parses the header, metadata and tensor infos, validating tensor layout against the alignment and
 * (when known) the file size. Reads no tensor data.
 */
export async function parseGGUFHeader(input: GGUFInput, options: ParseOptions = {}): Promise<GGUFHeader> {
  const src = toByteSource(input);
  const c = new Cursor(src, Math.max(16, options.readAhead ?? 1 << 16));

  await c.fill(4, 'magic');
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) fail('BAD_GGUF', `bad magic 0x${magic.toString(16).padStart(8, '0')}, not a GGUF file`, 0);
  await c.fill(20, 'header');
  const version = c.u32();
  if (version !== 2 && version !== 3) {
    const hint = version === 1 ? ' (GGUF v1 is obsolete)' : (version & 0xffff) === 0 ? ' (big-endian GGUF is not supported)' : '';
    fail('BAD_GGUF', `unsupported GGUF version ${version}${hint}`, 4);
  }
  const tensorCount = countFrom(c.u64(), GGUF_LIMITS.maxTensors, 'tensor count', 8);
  const kvCount = countFrom(c.u64(), GGUF_LIMITS.maxKV, 'metadata count', 16);
  // Cheapest possible records: kv = 8 (key len) + 4 (type) + 1; tensor info = 8 + 4 + 4 + 8.
  checkFits(c, kvCount, 13, 'metadata', 16);
  checkFits(c, tensorCount, 24, 'tensor infos', 8);

  const metadata = new Map<string, GGUFValue>();
  const metadataOffsets = new Map<string, number>();
  for (let i = 0; i < kvCount; i++) {
    const keyAt = c.pos;
    const key = await readString(c, `metadata key #${i}`);
    if (metadata.has(key)) fail('BAD_GGUF', `duplicate metadata key "${key}"`, keyAt);
    metadataOffsets.set(key, keyAt);
    const typeAt = c.pos;
    await c.fill(4, `type of "${key}"`);
    const t = valueType(c.u32(), typeAt);
    metadata.set(key, await readValue(c, t, `"${key}"`, 0));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const al = metadata.get('general.alignment');
  if (al !== undefined) {
    if (al.type !== 'u32') fail('BAD_GGUF', `general.alignment must be u32, got ${al.type}`, 24);
    const a = al.value;
    if (a === 0 || (a & (a - 1)) !== 0) fail('BAD_GGUF', `general.alignment ${a} is not a power of two`, 24);
    alignment = a;
  }

  const tensors: GGUFTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const infoOffset = c.pos;
    const name = await readString(c, `tensor #${i} name`, GGUF_LIMITS.maxTensorNameBytes);
    c.charge(VALUE_BYTES + 8 * GGUF_LIMITS.maxDims, `tensor #${i} info`, infoOffset);
    if (names.has(name)) fail('BAD_GGUF', `duplicate tensor name "${name}"`, infoOffset);
    names.add(name);
    const dimsAt = c.pos;
    await c.fill(4, `tensor "${name}" n_dims`);
    const nDims = c.u32();
    if (nDims > GGUF_LIMITS.maxDims) fail('BAD_GGUF', `tensor "${name}" has ${nDims} dimensions (max ${GGUF_LIMITS.maxDims})`, dimsAt);
    await c.fill(8 * nDims + 12, `tensor "${name}" info`);
    const shape: number[] = [];
    let nElements = 1;
    for (let d = 0; d < nDims; d++) {
      const neAt = c.pos;
      const ne = c.u64();
      if (ne === 0n) fail('BAD_GGUF', `tensor "${name}" has a zero-sized dimension ${d}`, neAt);
      if (ne >= BigInt(GGUF_LIMITS.maxElements) || nElements * Number(ne) >= GGUF_LIMITS.maxElements) {
        fail('BAD_GGUF', `tensor "${name}" has an absurd shape (dimension ${d} = ${ne})`, neAt);
      }
      shape.push(Number(ne));
      nElements *= Number(ne);
    }
    const typeAt = c.pos;
    const type = c.u32();
    const info = ggmlTypeInfo(type);
    if (!info) fail('UNSUPPORTED_TYPE', `tensor "${name}" has unknown ggml type ${type}`, typeAt);
    const blocked = info.blockAxis === 'row' ? (nDims ? shape[0] : 1) : nElements;
    if (blocked % info.blockSize !== 0) {
      fail('BAD_GGUF', `tensor "${name}": ${info.blockAxis === 'row' ? 'row length' : 'element count'} ${blocked} is not a multiple of ${info.name}'s block size ${info.blockSize}`, dimsAt);
    }
    const offAt = c.pos;
    const off = c.u64();
    if (off > BigInt(Number.MAX_SAFE_INTEGER)) fail('BAD_GGUF', `tensor "${name}" offset ${off} is too large`, offAt);
    const offset = Number(off);
    if (offset % alignment !== 0) fail('BAD_GGUF', `tensor "${name}" offset ${offset} is not a multiple of the alignment ${alignment}`, offAt);
    const byteSize = (nElements / info.blockSize) * info.typeSize + info.tensorExtraBytes;
    tensors.push({ name, shape, type, typeName: info.name, offset, absoluteOffset: 0, byteSize, nElements, infoOffset });
  }

  const headerBytes = c.pos;
  const size = src.size;
  const dataOffset = Math.ceil(headerBytes / alignment) * alignment;
  for (const t of tensors) t.absoluteOffset = dataOffset + t.offset;

  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1], cur = byOffset[i];
    if (prev.offset + prev.byteSize > cur.offset) {
      fail('BAD_GGUF', `tensor "${cur.name}" (data at ${cur.offset}) overlaps "${prev.name}" (${prev.offset}..${prev.offset + prev.byteSize})`, cur.infoOffset);
    }
  }
  if (size !== undefined && byOffset.length) {
    const last = byOffset[byOffset.length - 1];
    const end = last.absoluteOffset + last.byteSize;
    if (end > size) fail('TRUNCATED', `tensor "${last.name}" ends at byte ${end}, past the end of the file (${size} bytes)`, size);
  }

  return { version, metadata, tensors, alignment, dataOffset, headerBytes, fileSize: size, metadataOffsets };
}

// ---------------------------------------------------------------------------------------------
// Tensor data

export type TensorSink = (tensor: GGUFTensorInfo, chunk: Uint8Array, offsetInTensor: number) => void | Promise<void>;

export interface ReadTensorDataOptions {
  /** Which tensors to deliver (default: all). */
  filter?: (tensor: GGUFTensorInfo) => boolean;
  /** Largest read from the source (default 8 MiB); chunks given to the sink are at most this. */
  chunkSize?: number;
  onProgress?: (p: { loadedBytes: number; totalBytes: number }) => void;
  signal?: AbortSignal;
}

/** Gaps up to this size between wanted tensors are read through rather than split into two reads. */
const MERGE_GAP = 1 << 16;

/**
 * Delivers each selected tensor's bytes, in order of file offset, as chunks to `sink`. A chunk may
 * be a view into the source's memory and is valid only until the sink's promise settles: copy it
 * (e.g. into wasm memory at base + offsetInTensor). Works with sequential sources too.
 */
export async function readTensorData(
  input: GGUFInput,
  header: GGUFHeader,
  sink: TensorSink,
  options: ReadTensorDataOptions = {},
): Promise<void> {
  const src = toByteSource(input);
  const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 1 << 23));
  const wanted = header.tensors.filter((t) => options.filter?.(t) ?? true).sort((a, b) => a.absoluteOffset - b.absoluteOffset);
  const totalBytes = wanted.reduce((s, t) => s + t.byteSize, 0);
  let loadedBytes = 0;

  // runEnd[i]: end of the run of wanted tensors starting at i whose gaps are small enough to read through.
  const runEnd = new Array<number>(wanted.length);
  for (let i = wanted.length - 1; i >= 0; i--) {
    const end = wanted[i].absoluteOffset + wanted[i].byteSize;
    runEnd[i] = i + 1 < wanted.length && wanted[i + 1].absoluteOffset - end <= MERGE_GAP ? Math.max(end, runEnd[i + 1]) : end;
  }

  let win: Uint8Array = new Uint8Array(0);
  let winStart = 0;
  options.onProgress?.({ loadedBytes, totalBytes });
  for (let i = 0; i < wanted.length; i++) {
    const t = wanted[i];
    let off = 0;
    while (off < t.byteSize) {
      if (options.signal?.aborted) throw options.signal.reason ?? new BitnetError('BAD_ARGUMENT', 'aborted');
      const abs = t.absoluteOffset + off;
      if (abs < winStart || abs >= winStart + win.length) {
        win = await src.read(abs, Math.min(chunkSize, runEnd[i] - abs));
        winStart = abs;
        if (win.length === 0) fail('TRUNCATED', `tensor "${t.name}" data ends early (${off} of ${t.byteSize} bytes)`, abs);
      }
      const len = Math.min(t.byteSize - off, winStart + win.length - abs);
      await sink(t, win.subarray(abs - winStart, abs - winStart + len), off);
      off += len;
      loadedBytes += len;
      options.onProgress?.({ loadedBytes, totalBytes });
    }
  }
}

/** A part of one tensor's data that a loader wants in a buffer of its own (often a view of wasm memory). */
export interface TensorPiece {
  tensor: GGUFTensorInfo;
  /** Byte offset within the tensor's data, and length. */
  offset: number;
  length: number;
  /** Where the bytes go. Called when they are about to be written: a view of wasm memory made
   *  earlier would be stale if memory grew in between. */
  dest(): Uint8Array;
  /** Uses the bytes; called in order, while the next piece is already being read. */
  done(): void;
}

/**
 * Reads pieces (in file order) into the buffers they name, one read ahead: while piece i's done()
 * runs (a repack in wasm, say), piece i + 1 is already on its way. Sources with readInto (files,
 * bytes) read straight into dest; the others are read in windows of `chunkSize` and copied.
 * Works with sequential sources.
 */
export async function readTensorPieces(
  input: GGUFInput,
  pieces: Iterable<TensorPiece>,
  options: { totalBytes: number; chunkSize?: number; onProgress?: ReadTensorDataOptions['onProgress']; signal?: AbortSignal },
): Promise<void> {
  const src = toByteSource(input);
  const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 1 << 23));
  const short = (p: TensorPiece, got: number) =>
    fail('TRUNCATED', `tensor "${p.tensor.name}" data ends early (${p.offset + got} of ${p.tensor.byteSize} bytes)`, p.tensor.absoluteOffset + p.offset + got);
  let win: Uint8Array = new Uint8Array(0);
  let winStart = 0;
  const fill = async (p: TensorPiece): Promise<void> => {
    const abs = p.tensor.absoluteOffset + p.offset;
    if (src.readInto) {
      let view = p.dest();
      let got = await src.readInto(abs, view);
      // Memory grew during the read (its old buffer is detached): read again into the new one.
      if (view.byteLength === 0 && p.length > 0) { view = p.dest(); got = await src.readInto(abs, view); }
      if (got < p.length) short(p, got);
      return;
    }
    for (let o = 0; o < p.length;) {
      const a = abs + o;
      if (a < winStart || a >= winStart + win.length) {
        win = await src.read(a, Math.max(p.length - o, chunkSize));
        winStart = a;
        if (win.length === 0) short(p, o);
      }
      const n = Math.min(p.length - o, winStart + win.length - a);
      p.dest().set(win.subarray(a - winStart, a - winStart + n), o); // a fresh view after the await
      o += n;
    }
  };
  const aborted = () => { if (options.signal?.aborted) throw options.signal.reason ?? new BitnetError('BAD_ARGUMENT', 'aborted'); };
  let loadedBytes = 0;
  options.onProgress?.({ loadedBytes, totalBytes: options.totalBytes });
  const it = pieces[Symbol.iterator]();
  aborted();
  let cur = it.next();
  let pending: Promise<void> | null = cur.done ? null : fill(cur.value);
  try {
    while (!cur.done) {
      await pending;
      pending = null;
      aborted();
      const next = it.next();
      if (!next.done) pending = fill(next.value);
      cur.value.done();
      loadedBytes += cur.value.length;
      options.onProgress?.({ loadedBytes, totalBytes: options.totalBytes });
      cur = next;
    }
  } finally {
    // Never leave a read writing into memory the caller is about to free.
    if (pending) await (pending as Promise<void>).catch(() => undefined);
  }
}

/** One tensor's bytes, copied into a fresh array. */
export async function readTensorBytes(input: GGUFInput, header: GGUFHeader, tensor: GGUFTensorInfo | string): Promise<Uint8Array> {
  const info = typeof tensor === 'string' ? header.tensors.find((t) => t.name === tensor) : tensor;
  if (!info) throw new BitnetError('BAD_ARGUMENT', `no tensor named "${String(tensor)}"`);
  const out = new Uint8Array(info.byteSize);
  await readTensorData(input, header, (_t, chunk, o) => void out.set(chunk, o), { filter: (t) => t === info });
  return out;
}

/** Convenience for small values: the metadata value without its wire type. */
export function metadataValue(header: GGUFHeader, key: string): GGUFValue['value'] | undefined {
  return header.metadata.get(key)?.value;
}
