// The memory-bandwidth probe: a wasm function that reads a large buffer with 16-byte SIMD loads
// (XOR-folded so nothing can be skipped). Its GB/s, measured in the same run, is the physical limit
// a memory-bound kernel (GEMV, decode) is compared with. Hand-assembled (a few hundred bytes), no build step.
import { measure } from './measure.js';

const leb = (n: number) => { const o: number[] = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const str = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];

/** (func (param $p i32) (param $end i32) (param $q i32) (result i32) (local $acc v128)
 *   loop: acc ^= 64 bytes at p, p+q, p+2q, p+3q; p += 64 while p < end)
 *  Four streams a quarter of the buffer apart, as a GEMV reads several rows at once: one sequential
 *  stream is held back by the prefetcher of one stream and measures less than the memory gives. */
export function probeWasm(): Uint8Array {
  const stream = (k: number) => [0x20, 0, 0x20, 2, 0x41, k, 0x6c, 0x6a, 0x21, 4, // a = p + k*q
    ...[0, 16, 32, 48].flatMap((off) => [0x20, 4, 0xfd, 0x00, 0x04, ...leb(off), 0xfd, 0x51])]; // acc ^= v128.load(a + off)
  const body = [
    2, 1, 0x7b, 1, 0x7f, // locals: acc v128 (index 3), a i32 (index 4)
    0x03, 0x40, // loop
    0x20, 3, ...[0, 1, 2, 3].flatMap((k) => stream(k)), 0x21, 3,
    0x20, 0, 0x41, 0xc0, 0x00, 0x6a, 0x22, 0, // p += 64
    0x20, 1, 0x49, 0x0d, 0x00, // br_if p < end
    0x0b,
    0x20, 3, 0xfd, 0x1b, 0, // i32x4.extract_lane 0
    0x0b,
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 1, 0x7f]),
    ...section(2, [1, ...str('m'), ...str('mem'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str('read'), 0x00, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

const probes = new Map<number, (p: number, end: number, q: number) => number>();
let compiled: WebAssembly.Module | undefined;

/** The probe already compiled (workerd compiles no bytes at run time: its host embeds probeWasm()). */
export function setProbeModule(m: WebAssembly.Module): void { compiled = m; }

/** The probe over a buffer of `bytes`, made once per size (a run probes many times). */
function probeOf(bytes: number) {
  let read = probes.get(bytes);
  if (!read) {
    const memory = new WebAssembly.Memory({ initial: bytes / 65536 });
    new Uint8Array(memory.buffer).fill(1); // touch every page so the pass reads memory, not the zero page
    const instance = new WebAssembly.Instance(compiled ??= new WebAssembly.Module(probeWasm() as Uint8Array<ArrayBuffer>), { m: { mem: memory } });
    read = instance.exports.read as (p: number, end: number, q: number) => number;
    probes.set(bytes, read);
  }
  return read;
}

/** Read bandwidth of a `mb`-megabyte buffer in GB/s (median of repeated full passes). */
export async function readBandwidth(mb: number, timeMs: number): Promise<{ readGBs: number; bytes: number }> {
  const bytes = Math.ceil(mb * 1e6 / 65536) * 65536;
  const read = probeOf(bytes);
  const q = bytes / 4;
  let sink = 0;
  const t = await measure('bandwidth probe', () => { sink ^= read(0, q, q); }, timeMs);
  if (sink === 0x7fffffff) console.log(''); // keeps the result alive
  return { readGBs: bytes / t.ms / 1e6, bytes };
}
