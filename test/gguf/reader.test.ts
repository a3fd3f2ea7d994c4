import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BitnetError } from '../../src/errors.js';
import {
  dequantize,
  fromBlob,
  fromBytes,
  fromFile,
  fromStream,
  fromUrl,
  parseGGUFHeader,
  quantize,
  readTensorBytes,
  readTensorData,
  writeGGUF,
  writeGGUFChunks,
  type ByteSource,
  type GGUFValue,
  type GGUFWriteTensor,
} from '../../src/gguf/index.js';
import { ggufHead, prng, randomFloats, randomTernary } from './helpers.js';

/** Plain-JS view of a metadata value, so typed arrays and arrays compare equal. */
function plain(v: GGUFValue): unknown {
  if (v.type !== 'array') return { type: v.type, value: v.value };
  const items = Array.from(v.value as ArrayLike<unknown>);
  return { type: 'array', itemType: v.itemType, value: v.itemType === 'array' ? items.map((x) => plain(x as GGUFValue)) : items };
}

const METADATA: Record<string, GGUFValue> = {
  'general.architecture': { type: 'string', value: 'bitnet' },
  'test.u8': { type: 'u8', value: 255 },
  'test.i8': { type: 'i8', value: -128 },
  'test.u16': { type: 'u16', value: 65535 },
  'test.i16': { type: 'i16', value: -32768 },
  'test.u32': { type: 'u32', value: 0xffffffff },
  'test.i32': { type: 'i32', value: -0x80000000 },
  'test.f32': { type: 'f32', value: Math.fround(3.14159) },
  'test.f64': { type: 'f64', value: Math.PI },
  'test.bool.t': { type: 'bool', value: true },
  'test.bool.f': { type: 'bool', value: false },
  'test.u64': { type: 'u64', value: (1n << 64n) - 1n },
  'test.i64': { type: 'i64', value: -(1n << 63n) },
  'test.string.unicode': { type: 'string', value: '\uFEFFhé 漢字 🦙 e\u0301 \u0000 end' },
  'test.string.empty': { type: 'string', value: '' },
  'test.arr.u8': { type: 'array', itemType: 'u8', value: [0, 1, 255] },
  'test.arr.i8': { type: 'array', itemType: 'i8', value: [-128, 0, 127] },
  'test.arr.u16': { type: 'array', itemType: 'u16', value: [65535, 2] },
  'test.arr.i16': { type: 'array', itemType: 'i16', value: [-32768, 32767] },
  'test.arr.u32': { type: 'array', itemType: 'u32', value: [0, 0xffffffff] },
  'test.arr.i32': { type: 'array', itemType: 'i32', value: [-5, 5] },
  'test.arr.f32': { type: 'array', itemType: 'f32', value: [Math.fround(0.1), -0, Infinity] },
  'test.arr.f64': { type: 'array', itemType: 'f64', value: [0.1, -1e300] },
  'test.arr.bool': { type: 'array', itemType: 'bool', value: [true, false, true] },
  'test.arr.u64': { type: 'array', itemType: 'u64', value: [0n, (1n << 64n) - 1n] },
  'test.arr.i64': { type: 'array', itemType: 'i64', value: [-(1n << 63n), 7n] },
  'test.arr.string': { type: 'array', itemType: 'string', value: ['<s>', '', '▁the', '🦙🦙', 'Ġ'] },
  'test.arr.empty': { type: 'array', itemType: 'u32', value: [] },
  'test.arr.nested': {
    type: 'array',
    itemType: 'array',
    value: [
      { type: 'array', itemType: 'u8', value: [1, 2] },
      { type: 'array', itemType: 'string', value: ['a', 'β'] },
      { type: 'array', itemType: 'array', value: [{ type: 'array', itemType: 'f32', value: [1.5] }] },
      { type: 'array', itemType: 'i64', value: [] },
    ],
  },
};

function sampleTensors(seed: number): GGUFWriteTensor[] {
  const r = prng(seed);
  return [
    { name: 'f32', shape: [5, 3], type: 'F32', data: randomFloats(r, 15) },
    { name: 'f16', shape: [7], type: 'F16', data: randomFloats(r, 7) },
    { name: 'bf16', shape: [4, 2], type: 'BF16', data: randomFloats(r, 8) },
    { name: 'q8_0', shape: [64, 2], type: 'Q8_0', data: randomFloats(r, 128) },
    { name: 'q4_k', shape: [256, 2], type: 'Q4_K', data: randomFloats(r, 512) },
    { name: 'q6_k', shape: [256], type: 'Q6_K', data: randomFloats(r, 256) },
    { name: 'tq1_0', shape: [256, 3], type: 'TQ1_0', data: randomTernary(r, 768, 2), scale: 0.125 },
    { name: 'tq2_0', shape: [512, 2], type: 'TQ2_0', data: randomTernary(r, 1024, 3), scale: 0.0625 },
    { name: 'i2_s', shape: [128, 3], type: 'I2_S', data: randomTernary(r, 384), scale: 0.3 },
    { name: 'blk.0.ffn_down.scale', shape: [1], type: 'F32', data: new Float32Array([1.25]) },
    { name: 'scalar', shape: [], type: 'F32', data: new Float32Array([2]) },
  ];
}

function expectedValues(t: GGUFWriteTensor): Float32Array {
  if (t.data instanceof Int8Array) {
    const s = Math.fround(t.scale ?? 1);
    return Float32Array.from(t.data, (v) => v * s);
  }
  const x = t.data as Float32Array;
  return dequantize(t.type, quantize(t.type, x), x.length);
}

describe('write -> read round trip', () => {
  for (const alignment of [undefined, 1, 64]) {
    it(`metadata and tensors survive (alignment ${alignment ?? 'default'})`, async () => {
      const tensors = sampleTensors(1);
      const file = writeGGUF({ metadata: METADATA, tensors, alignment });
      const h = await parseGGUFHeader(file);
      expect(h.version).toBe(3);
      expect(h.alignment).toBe(alignment ?? 32);
      expect(h.dataOffset % h.alignment).toBe(0);
      const want = Object.entries(METADATA).map(([k, v]) => [k, plain(v)]);
      if (alignment !== undefined) want.push(['general.alignment', { type: 'u32', value: alignment }]);
      expect([...h.metadata.entries()].map(([k, v]) => [k, plain(v)])).toEqual(want);
      expect(h.metadata.get('test.arr.u64')!.value).toBeInstanceOf(BigUint64Array);
      expect(h.metadata.get('test.arr.f32')!.value).toBeInstanceOf(Float32Array);
      expect(h.tensors.map((t) => [t.name, t.shape, t.typeName])).toEqual(tensors.map((t) => [t.name, [...t.shape], t.type]));
      for (const [i, t] of tensors.entries()) {
        const info = h.tensors[i];
        expect(info.offset % h.alignment).toBe(0);
        const bytes = await readTensorBytes(file, h, info);
        expect(bytes.length).toBe(info.byteSize);
        const got = dequantize(info.type, bytes, info.nElements);
        expect(Array.from(got)).toEqual(Array.from(expectedValues(t)));
      }
      // Writing what we read gives the same file.
      const again = writeGGUF({
        metadata: h.metadata,
        tensors: await Promise.all(h.tensors.map(async (t) => ({ name: t.name, shape: t.shape, type: t.type, data: await readTensorBytes(file, h, t) }))),
      });
      expect(again).toEqual(file);
    });
  }

  it('writeGGUFChunks streams the same bytes as writeGGUF, one tensor per chunk', () => {
    const opts = { metadata: METADATA, tensors: sampleTensors(4), alignment: 64 };
    const chunks = [...writeGGUFChunks(opts)];
    const joined = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    chunks.reduce((o, c) => (joined.set(c, o), o + c.length), 0);
    expect(joined).toEqual(writeGGUF(opts));
    expect(chunks.every((c, i) => i === 0 || c.length > 0)).toBe(true);
    expect(chunks[0].length % 64).toBe(0);
  });

  it('reads version 2 files', async () => {
    const file = writeGGUF({ metadata: { a: { type: 'u8', value: 1 } }, tensors: sampleTensors(2).slice(0, 2), version: 2 });
    const h = await parseGGUFHeader(file);
    expect(h.version).toBe(2);
    expect(h.tensors.length).toBe(2);
  });

  it('round-trips arbitrary metadata (property test)', async () => {
    const scalar = fc.oneof(
      fc.integer({ min: 0, max: 255 }).map((v) => ({ type: 'u8', value: v })),
      fc.integer({ min: -128, max: 127 }).map((v) => ({ type: 'i8', value: v })),
      fc.integer({ min: -32768, max: 32767 }).map((v) => ({ type: 'i16', value: v })),
      fc.nat({ max: 0xffffffff }).map((v) => ({ type: 'u32', value: v })),
      fc.float({ noNaN: true }).map((v) => ({ type: 'f32', value: v })),
      fc.double({ noNaN: true }).map((v) => ({ type: 'f64', value: v })),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => ({ type: 'u64', value: v })),
      fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((v) => ({ type: 'i64', value: v })),
      fc.boolean().map((v) => ({ type: 'bool', value: v })),
      fc.string({ unit: 'grapheme' }).map((v) => ({ type: 'string', value: v })),
      fc.array(fc.string({ unit: 'binary' }), { maxLength: 5 }).map((v) => ({ type: 'array', itemType: 'string', value: v })),
      fc.array(fc.integer({ min: -2147483648, max: 2147483647 }), { maxLength: 5 }).map((v) => ({ type: 'array', itemType: 'i32', value: v })),
    ) as fc.Arbitrary<GGUFValue>;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), scalar), { selector: (e) => e[0], maxLength: 8 }), async (entries) => {
        const file = writeGGUF({ metadata: entries });
        const h = await parseGGUFHeader(file);
        expect([...h.metadata.entries()].map(([k, v]) => [k, plain(v)])).toEqual(entries.map(([k, v]) => [k, plain(v)]));
      }),
      { numRuns: 200, seed: 1234 },
    );
  });

  it('string arrays of raw bytes: each string decoded as on its own, or BAD_GGUF at the first invalid one (property test)', async () => {
    // Pieces of UTF-8 and its mistakes: a string may end inside a character that the next one
    // completes (valid together, invalid apart), hold a lone continuation, an overlong form, a
    // surrogate, or a 4-byte character (two UTF-16 units).
    const piece = fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom([0x61], [0x20], [0x00], [0xc4, 0xa0], [0xe6, 0xbc, 0xa2], [0xf0, 0x9f, 0xa6, 0x99]) },
      { weight: 6, arbitrary: fc.constantFrom([0xc3], [0xa9]) }, // é's two bytes, apart
      { weight: 1, arbitrary: fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff]) },
    );
    const str = fc.array(piece, { maxLength: 6 }).map((ps) => ps.flat());
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    await fc.assert(
      fc.asyncProperty(fc.array(str, { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), async (strs, chunk) => {
        const raw = ggufHead(3, 0, 1).str('k').u32(9).u32(8).u64(strs.length);
        const at: number[] = [];
        for (const b of strs) { raw.u64(b.length); at.push(raw.length); raw.bytes(b); }
        const file = raw.build();
        let want: string[] | number;
        try { want = strs.map((b) => strict.decode(Uint8Array.from(b))); } catch { want = at[strs.findIndex((b) => { try { strict.decode(Uint8Array.from(b)); return false; } catch { return true; } })]; }
        for (const src of [fromBytes(file), fromStream(streamOf(file, chunk, chunk))]) {
          const got = await parseGGUFHeader(src, { readAhead: chunk }).then((h) => h.metadata.get('k')!.value as string[], (e: BitnetError) => e);
          if (typeof want === 'number') expect(got).toMatchObject({ code: 'BAD_GGUF', offset: want });
          else expect(got).toEqual(want);
        }
      }),
      { numRuns: 300, seed: 77 },
    );
  });

  it('writer rejects bad input with BAD_ARGUMENT', () => {
    const bad = (o: Parameters<typeof writeGGUF>[0]) => expect(() => writeGGUF(o)).toThrow(/BAD_ARGUMENT|UNSUPPORTED_TYPE/);
    bad({ metadata: { x: { type: 'u8', value: 256 } } });
    bad({ metadata: { x: { type: 'i32', value: 1.5 } } });
    bad({ metadata: { x: { type: 'u64', value: -1n } } });
    bad({ metadata: { x: { type: 'string', value: 'a\uD800b' } } });
    bad({ metadata: { x: { type: 'bogus' as 'u8', value: 1 } } });
    bad({ alignment: 3 });
    bad({ metadata: { 'general.alignment': { type: 'u32', value: 64 } }, alignment: 32 });
    bad({ tensors: [{ name: 'a', shape: [4], type: 'F32', data: new Float32Array(3) }] });
    bad({ tensors: [{ name: 'a', shape: [256], type: 'TQ2_0', data: new Int8Array(256).fill(2) }] });
    bad({ tensors: [{ name: 'a', shape: [32], type: 'Q8_0', data: new Uint8Array(33) }] });
    bad({ tensors: [{ name: 'x'.repeat(64), shape: [1], type: 'F32', data: new Float32Array(1) }] });
    bad({ tensors: [{ name: 'a', shape: [1], type: 'F32', data: new Float32Array(1) }, { name: 'a', shape: [1], type: 'F32', data: new Float32Array(1) }] });
    bad({ tensors: [{ name: 'a', shape: [32], type: 'Q4_0', data: new Float32Array(32) }] });
    bad({ tensors: [{ name: 'a', shape: [1], type: 99, data: new Float32Array(1) }] });
  });
});

// ---------------------------------------------------------------------------------------------

function streamOf(bytes: Uint8Array, seed: number, maxChunk: number): ReadableStream<Uint8Array> {
  const r = prng(seed);
  let pos = 0;
  return new ReadableStream({
    pull(controller) {
      if (pos >= bytes.length) return controller.close();
      const n = 1 + Math.floor(r() * maxChunk);
      controller.enqueue(bytes.slice(pos, pos + n));
      pos += n;
    },
  });
}

async function collect(src: ByteSource, file: Uint8Array, chunkSize?: number, filter?: (n: string) => boolean) {
  const h = await parseGGUFHeader(src, { readAhead: 16 });
  const got = new Map<string, Uint8Array>();
  const order: string[] = [];
  const progress: number[] = [];
  await readTensorData(
    src,
    h,
    (t, chunk, off) => {
      if (!got.has(t.name)) { got.set(t.name, new Uint8Array(t.byteSize)); order.push(t.name); }
      got.get(t.name)!.set(chunk, off);
    },
    { chunkSize, filter: filter && ((t) => filter(t.name)), onProgress: (p) => progress.push(p.loadedBytes, p.totalBytes) },
  );
  const ref = await parseGGUFHeader(file);
  for (const t of ref.tensors.filter((t) => !filter || filter(t.name))) {
    expect(got.get(t.name)).toEqual(file.subarray(t.absoluteOffset, t.absoluteOffset + t.byteSize));
  }
  const total = progress[progress.length - 1];
  expect(progress[progress.length - 2]).toBe(total);
  return { h, order };
}

describe('byte sources and tensor streaming', () => {
  const file = writeGGUF({ metadata: METADATA, tensors: sampleTensors(3) });
  let dir = '';
  let server: Server;
  let base = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gguf-test-'));
    writeFileSync(join(dir, 'm.gguf'), file);
    server = createServer((req, res) => {
      const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
      if ((req.url === '/range' || req.url === '/trunc') && range) {
        const data = req.url === '/trunc' ? file.subarray(0, file.length - 300) : file;
        const a = Number(range[1]);
        const b = Math.min(Number(range[2]), data.length - 1);
        if (a >= data.length) { res.writeHead(416); return res.end(); }
        res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${data.length}`, 'content-length': b - a + 1 });
        return res.end(data.subarray(a, b + 1));
      }
      if (req.url === '/range' || req.url === '/norange') {
        res.writeHead(200, { 'content-length': file.length });
        // dribble the body in small writes
        for (let i = 0; i < file.length; i += 1000) res.write(file.subarray(i, i + 1000));
        return res.end();
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise((ok) => server.close(ok));
  });

  it('Uint8Array / ArrayBuffer / Blob', async () => {
    await collect(fromBytes(file), file);
    await collect(fromBytes(file.slice().buffer), file, 7);
    await collect(fromBlob(new Blob([file.slice()])), file, 100);
  });

  it('file path, by ranges', async () => {
    const src = await fromFile(join(dir, 'm.gguf'));
    try {
      expect(src.size).toBe(file.length);
      await collect(src, file, 64);
    } finally {
      await src.close!();
    }
  });

  it('ReadableStream (sequential), including 1-byte chunks and skipped tensors', async () => {
    await collect(fromStream(streamOf(file, 1, 1)), file, 13);
    await collect(fromStream(streamOf(file, 2, 5000)), file);
    await collect(fromStream(streamOf(file, 3, 300)), file, 50, (n) => n.startsWith('t') || n === 'f32');
  });

  it('fetch URL with Range requests, and sequential fallback without them', async () => {
    await collect(fromUrl(`${base}/range`), file, 100);
    const seq = fromUrl(`${base}/norange`);
    await collect(seq, file, 100);
    expect(seq.sequential).toBe(true);
    await expect(fromUrl(`${base}/missing`).read(0, 10)).rejects.toThrow(BitnetError);
    // The size learned from Content-Range is used by the header checks.
    await expect(parseGGUFHeader(fromUrl(`${base}/trunc`))).rejects.toMatchObject({ code: 'TRUNCATED', offset: file.length - 300 });
  });

  // Its speed is measured by bench/gguf-header.mjs, not asserted here.
  it('parses a 128k-entry vocabulary from a stream in small chunks', async () => {
    const tokens = Array.from({ length: 128256 }, (_, i) => `tok_${i}_ĠΩ`);
    const big = writeGGUF({
      metadata: {
        'tokenizer.ggml.tokens': { type: 'array', itemType: 'string', value: tokens },
        'tokenizer.ggml.token_type': { type: 'array', itemType: 'i32', value: new Int32Array(tokens.length).fill(1) },
      },
    });
    const h = await parseGGUFHeader(fromStream(streamOf(big, 9, 4096)));
    expect((h.metadata.get('tokenizer.ggml.tokens')!.value as string[])[128255]).toBe('tok_128255_ĠΩ');
  });

  it('delivers tensors in order of file offset, not info order', async () => {
    // Two F32 tensors: infos list "b" first, but "a" sits first in the data section.
    const raw = ggufHead(3, 2, 0);
    raw.str('b').u32(1).u64(8).u32(0).u64(32);
    raw.str('a').u32(1).u64(8).u32(0).u64(0);
    raw.padTo(32);
    const a = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const b = new Float32Array([9, 10, 11, 12, 13, 14, 15, 16]);
    const bytes = new Uint8Array([...raw.build(), ...new Uint8Array(a.buffer), ...new Uint8Array(b.buffer)]);
    const { h, order } = await collect(fromBytes(bytes), bytes, 5);
    expect(h.tensors.map((t) => t.name)).toEqual(['b', 'a']);
    expect(order).toEqual(['a', 'b']);
    expect(Array.from(dequantize('F32', await readTensorBytes(bytes, h, 'b'), 8))).toEqual(Array.from(b));
  });

  it('stops when aborted', async () => {
    const h = await parseGGUFHeader(file);
    const ac = new AbortController();
    let calls = 0;
    await expect(
      readTensorData(file, h, () => { if (++calls === 3) ac.abort(new Error('stop')); }, { chunkSize: 8, signal: ac.signal }),
    ).rejects.toThrow('stop');
    expect(calls).toBe(3);
  });
});
