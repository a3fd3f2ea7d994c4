import { describe, expect, it } from 'vitest';
import { BitnetError } from '../../src/errors.js';
import { dequantize, fromBytes, fromStream, ggmlTypeInfo, parseGGUFHeader, readTensorData, writeGGUF, type ByteSource } from '../../src/gguf/index.js';
import { ggufHead, prng, randInt, randomFloats, randomTernary, Raw } from './helpers.js';

/** Parse, then stream every tensor and decode it: any stage may reject, none may crash. */
async function parseAndRead(src: ByteSource): Promise<void> {
  const h = await parseGGUFHeader(src);
  const bufs = new Map<string, Uint8Array>();
  await readTensorData(src, h, (t, chunk, off) => {
    if (!bufs.has(t.name)) bufs.set(t.name, new Uint8Array(t.byteSize));
    bufs.get(t.name)!.set(chunk, off);
  });
  for (const t of h.tensors) if (ggmlTypeInfo(t.type)?.dequantize) dequantize(t.type, bufs.get(t.name)!, t.nElements);
}

async function expectError(bytes: Uint8Array, code: string, offset?: number) {
  let err: unknown;
  try {
    await parseAndRead(fromBytes(bytes));
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a BitnetError').toBeInstanceOf(BitnetError);
  const be = err as BitnetError;
  expect(be.code, be.message).toBe(code);
  expect(typeof be.offset).toBe('number');
  if (offset !== undefined) expect(be.offset, be.message).toBe(offset);
  return be;
}

/** Same bytes through a stream (size unknown): same code, offset set. */
async function expectStreamError(bytes: Uint8Array, code: string) {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += 7) c.enqueue(bytes.slice(i, i + 7));
      c.close();
    },
  });
  let err: unknown;
  try {
    await parseAndRead(fromStream(stream));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BitnetError);
  expect((err as BitnetError).code, (err as BitnetError).message).toBe(code);
  expect(typeof (err as BitnetError).offset).toBe('number');
}

/** One F32 tensor of 8 elements, with a hand-written info record. */
function oneTensor(opts: { name?: string; dims?: (number | bigint)[]; type?: number; offset?: number | bigint; dataBytes?: number; kv?: (r: Raw) => number } = {}) {
  const r = ggufHead(3, 1, 0);
  let nkv = 0;
  if (opts.kv) nkv = opts.kv(r);
  const bytes = r.build();
  new DataView(bytes.buffer).setBigUint64(16, BigInt(nkv), true);
  const rest = new Raw().bytes(bytes);
  const dims = opts.dims ?? [8];
  rest.str(opts.name ?? 'w').u32(dims.length);
  for (const d of dims) rest.u64(d);
  rest.u32(opts.type ?? 0).u64(opts.offset ?? 0);
  rest.padTo(32).zeros(opts.dataBytes ?? 32);
  return rest.build();
}

describe('hostile files: each rejected with a code and an offset', () => {
  // [name, bytes, code, offset?, code when read as a stream of unknown size (zeros then parse as
  //  empty names, so a duplicate shows up before the bytes run out)]
  const cases: [string, () => Uint8Array, string, number?, string?][] = [
    ['empty file', () => new Uint8Array(0), 'TRUNCATED', 0],
    ['only the magic', () => new Uint8Array([0x47, 0x47, 0x55, 0x46]), 'TRUNCATED', 4],
    ['wrong magic', () => new Raw().bytes([0x47, 0x47, 0x4d, 0x4c]).u32(3).u64(0).u64(0).build(), 'BAD_GGUF', 0],
    ['version 1', () => ggufHead(1, 0, 0).build(), 'BAD_GGUF', 4],
    ['version 4', () => ggufHead(4, 0, 0).build(), 'BAD_GGUF', 4],
    ['big-endian v3', () => ggufHead(0x03000000, 0, 0).build(), 'BAD_GGUF', 4],
    ['2^60 tensors', () => ggufHead(3, 1n << 60n, 0).build(), 'BAD_GGUF', 8],
    ['2^60 kv pairs', () => ggufHead(3, 0, 1n << 60n).build(), 'BAD_GGUF', 16],
    ['more tensors than bytes', () => ggufHead(3, 100000, 0).zeros(100).build(), 'TRUNCATED', 8, 'BAD_GGUF'],
    ['more kv pairs than bytes', () => ggufHead(3, 0, 1000).zeros(100).build(), 'TRUNCATED', 16, 'BAD_GGUF'],
    ['more kv pairs than bytes (all distinct)', () => { const r = ggufHead(3, 0, 1000); for (let i = 0; i < 5; i++) r.kvU32(`k${i}`, i); return r.build(); }, 'TRUNCATED', 16],
    ['key length 2^62', () => ggufHead(3, 0, 1).u64(1n << 62n).zeros(16).build(), 'BAD_GGUF', 24],
    ['key length past the end', () => ggufHead(3, 0, 1).u64(1000).zeros(20).build(), 'TRUNCATED', 24],
    ['string value past the end', () => ggufHead(3, 0, 1).str('k').u32(8).u64(500).zeros(30).build(), 'TRUNCATED', 37],
    ['array count 2^40', () => ggufHead(3, 0, 1).str('k').u32(9).u32(0).u64(1n << 40n).build(), 'BAD_GGUF', 41],
    ['array of u32 past the end', () => ggufHead(3, 0, 1).str('k').u32(9).u32(4).u64(1000000).zeros(64).build(), 'TRUNCATED', 41],
    ['array of strings past the end', () => ggufHead(3, 0, 1).str('k').u32(9).u32(8).u64(1n << 26n).zeros(64).build(), 'TRUNCATED', 41],
    ['unknown value type', () => ggufHead(3, 0, 1).str('k').u32(13).u32(0).build(), 'BAD_GGUF', 33],
    ['unknown array item type', () => ggufHead(3, 0, 1).str('k').u32(9).u32(99).u64(0).build(), 'BAD_GGUF', 37],
    ['bool byte 2', () => ggufHead(3, 0, 1).str('k').u32(7).u8(2).build(), 'BAD_GGUF', 37],
    ['arrays nested 20 deep', () => { const r = ggufHead(3, 0, 1).str('k').u32(9); for (let i = 0; i < 20; i++) r.u32(9).u64(1); return r.zeros(64).build(); }, 'BAD_GGUF'],
    ['duplicate key', () => ggufHead(3, 0, 2).kvU32('a', 1).kvU32('a', 2).build(), 'BAD_GGUF', 41],
    ['invalid UTF-8 key', () => ggufHead(3, 0, 1).u64(2).bytes([0xc3, 0x28]).u32(4).u32(1).build(), 'BAD_GGUF', 32],
    ['invalid UTF-8 value (lone continuation)', () => ggufHead(3, 0, 1).str('k').u32(8).u64(1).u8(0x80).build(), 'BAD_GGUF', 45],
    ['invalid UTF-8 value (overlong)', () => ggufHead(3, 0, 1).str('k').u32(8).u64(2).bytes([0xc0, 0xaf]).build(), 'BAD_GGUF', 45],
    ['invalid UTF-8 value (surrogate)', () => ggufHead(3, 0, 1).str('k').u32(8).u64(3).bytes([0xed, 0xa0, 0x80]).build(), 'BAD_GGUF', 45],
    ['alignment 0', () => ggufHead(3, 0, 1).kvU32('general.alignment', 0).build(), 'BAD_GGUF'],
    ['alignment 48', () => ggufHead(3, 0, 1).kvU32('general.alignment', 48).build(), 'BAD_GGUF'],
    ['alignment of type u64', () => ggufHead(3, 0, 1).str('general.alignment').u32(10).u64(32).build(), 'BAD_GGUF'],
    ['n_dims 5', () => oneTensor({ dims: [1, 1, 1, 1, 8] }), 'BAD_GGUF', 33],
    ['zero-sized dimension', () => oneTensor({ dims: [8, 0] }), 'BAD_GGUF', 45],
    ['2^40 elements', () => oneTensor({ dims: [1 << 20, 1 << 20] }), 'BAD_GGUF', 45],
    ['dimension 2^63', () => oneTensor({ dims: [1n << 63n] }), 'BAD_GGUF', 37],
    ['row not a multiple of the block', () => oneTensor({ dims: [48], type: 8 }), 'BAD_GGUF', 33],
    ['TQ2_0 row of 100', () => oneTensor({ dims: [100, 4], type: 35 }), 'BAD_GGUF', 33],
    ['unknown type id 99', () => oneTensor({ type: 99 }), 'UNSUPPORTED_TYPE', 45],
    ['type id 37 (I8_S, not supported)', () => oneTensor({ type: 37 }), 'UNSUPPORTED_TYPE', 45],
    ['unaligned data offset', () => oneTensor({ offset: 16, dataBytes: 64 }), 'BAD_GGUF', 49],
    ['offset 2^60', () => oneTensor({ offset: 1n << 60n }), 'BAD_GGUF', 49],
    ['tensor past the end of the file', () => oneTensor({ dims: [16], dataBytes: 32 }), 'TRUNCATED'],
    ['tensor at a far offset', () => oneTensor({ offset: 1 << 30 }), 'TRUNCATED'],
    ['tensor name too long', () => oneTensor({ name: 'x'.repeat(2000) }), 'BAD_GGUF', 24],
    ['invalid UTF-8 tensor name', () => ggufHead(3, 1, 0).u64(1).u8(0xff).u32(1).u64(8).u32(0).u64(0).padTo(32).zeros(32).build(), 'BAD_GGUF', 32],
    ['duplicate tensor names', () => ggufHead(3, 2, 0).str('w').u32(1).u64(8).u32(0).u64(0).str('w').u32(1).u64(8).u32(0).u64(32).padTo(32).zeros(64).build(), 'BAD_GGUF', 57],
    ['overlapping tensors', () => ggufHead(3, 2, 0).str('a').u32(1).u64(16).u32(0).u64(0).str('b').u32(1).u64(8).u32(0).u64(32).padTo(32).zeros(96).build(), 'BAD_GGUF', 57],
    ['tensor data truncated mid-way', () => writeGGUF({ tensors: [{ name: 'w', shape: [256], type: 'Q8_0', data: new Float32Array(256) }] }).subarray(0, 100), 'TRUNCATED'],
  ];

  for (const [name, make, code, offset, streamCode] of cases) {
    it(name, async () => {
      const bytes = make();
      await expectError(bytes, code, offset);
      await expectStreamError(bytes, streamCode ?? code);
    });
  }

  it('a truncation at every byte of a valid file is TRUNCATED (random-access and stream)', async () => {
    const r = prng(5);
    const file = writeGGUF({
      metadata: {
        'general.architecture': { type: 'string', value: 'bitnet' },
        'tokenizer.ggml.tokens': { type: 'array', itemType: 'string', value: ['<s>', '</s>', 'a'] },
        'x.nested': { type: 'array', itemType: 'array', value: [{ type: 'array', itemType: 'u16', value: [1, 2] }] },
      },
      tensors: [
        { name: 'a', shape: [256], type: 'TQ2_0', data: randomTernary(r, 256) },
        { name: 'b', shape: [32], type: 'Q8_0', data: randomFloats(r, 32) },
      ],
    });
    const h = await parseGGUFHeader(file);
    const dataEnd = Math.max(...h.tensors.map((t) => t.absoluteOffset + t.byteSize));
    for (let len = 0; len < file.length; len++) {
      const cut = file.slice(0, len);
      if (len >= dataEnd) {
        await parseAndRead(fromBytes(cut)); // only padding is missing
        continue;
      }
      await expectError(cut, 'TRUNCATED');
      if (len % 5 === 0) await expectStreamError(cut, 'TRUNCATED');
    }
  });
});

describe('fuzz: mutated files parse or fail with a BitnetError', () => {
  it('2000 seeded mutations, bounded time', async () => {
    const r = prng(20240601);
    const base = writeGGUF({
      metadata: {
        'general.architecture': { type: 'string', value: 'bitnet' },
        'bitnet.block_count': { type: 'u32', value: 2 },
        'bitnet.rope.freq_base': { type: 'f32', value: 10000 },
        'tokenizer.ggml.tokens': { type: 'array', itemType: 'string', value: ['<unk>', '<s>', '▁a', 'é'] },
        'tokenizer.ggml.scores': { type: 'array', itemType: 'f32', value: [0, 0, -1, -2] },
        'tokenizer.ggml.add_bos_token': { type: 'bool', value: true },
        'x.nested': { type: 'array', itemType: 'array', value: [{ type: 'array', itemType: 'i64', value: [5n] }] },
      },
      tensors: [
        { name: 'token_embd.weight', shape: [32, 4], type: 'F16', data: randomFloats(r, 128) },
        { name: 'blk.0.attn_q.weight', shape: [256, 2], type: 'TQ2_0', data: randomTernary(r, 512) },
        { name: 'blk.0.attn_k.weight', shape: [256], type: 'TQ1_0', data: randomTernary(r, 256) },
        { name: 'blk.0.attn_v.weight', shape: [128, 2], type: 'I2_S', data: randomTernary(r, 256) },
        { name: 'blk.0.ffn_up.weight', shape: [256], type: 'Q4_K', data: randomFloats(r, 256) },
        { name: 'blk.0.ffn_down.weight', shape: [256], type: 'Q6_K', data: randomFloats(r, 256) },
        { name: 'output_norm.weight', shape: [32], type: 'Q8_0', data: randomFloats(r, 32) },
        { name: 'bf', shape: [4], type: 'BF16', data: randomFloats(r, 4) },
      ],
    });
    const headerEnd = (await parseGGUFHeader(base)).headerBytes;
    const specials = [0n, 1n, 0xffn, 0xffffffffn, 1n << 32n, 1n << 40n, 1n << 63n, (1n << 64n) - 1n];
    let ok = 0, rejected = 0;
    for (let i = 0; i < 2000; i++) {
      let m = base.slice();
      const pos = () => (r() < 0.85 ? randInt(r, 0, headerEnd - 1) : randInt(r, 0, m.length - 1));
      const kind = randInt(r, 0, 5);
      if (kind === 0) for (let k = randInt(r, 1, 3); k > 0; k--) { const p = pos(); m[p] ^= 1 << randInt(r, 0, 7); }
      else if (kind === 1) for (let k = randInt(r, 1, 4); k > 0; k--) m[pos()] = [0, 0xff, randInt(r, 0, 255)][randInt(r, 0, 2)];
      else if (kind === 2) { const p = Math.min(pos(), m.length - 8); new DataView(m.buffer).setBigUint64(p, specials[randInt(r, 0, specials.length - 1)], true); }
      else if (kind === 3) m = m.slice(0, randInt(r, 0, m.length));
      else if (kind === 4) { const p = pos(), n = randInt(r, 1, 16); m = new Uint8Array([...m.subarray(0, p), ...m.subarray(p + n)]); }
      else { const p = pos(), n = randInt(r, 1, 16); m = new Uint8Array([...m.subarray(0, p), ...m.subarray(p, p + n), ...m.subarray(p)]); }
      try {
        await parseAndRead(fromBytes(m));
        ok++;
      } catch (e) {
        if (!(e instanceof BitnetError)) throw new Error(`mutation ${i} (kind ${kind}) threw a non-BitnetError: ${String(e)}`);
        expect(typeof e.offset, `mutation ${i}: ${e.message}`).toBe('number');
        rejected++;
      }
      if (i % 4 === 0) {
        // Same bytes as a stream of unknown size: no size checks up front, still only BitnetErrors.
        const chunks = m.slice();
        const stream = new ReadableStream<Uint8Array>({ start(c) { for (let k = 0; k < chunks.length; k += 97) c.enqueue(chunks.slice(k, k + 97)); c.close(); } });
        try {
          await parseAndRead(fromStream(stream));
        } catch (e) {
          if (!(e instanceof BitnetError)) throw new Error(`mutation ${i} (stream) threw a non-BitnetError: ${String(e)}`);
          expect(typeof e.offset).toBe('number');
        }
      }
    }
    expect(ok + rejected).toBe(2000);
    expect(rejected).toBeGreaterThan(500);
  });
});
