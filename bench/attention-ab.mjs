// A/B of the attention kernel between builds, in one process, interleaved rounds:
//   node bench/attention-ab.mjs [--positions 512,1024,4096] [--cache f32|f16] [--rounds 5] [--pieces N] A.wasm B.wasm ...
// Each file is a bitnet-*.wasm build (e.g. main's build/bitnet-simd128.wasm copied aside, and this
// tree's). One decode step of one 2B4T layer (20 query / 5 kv heads x 128). Prints per build the
// CPU milliseconds per call (process.cpuUsage around each call: a shared machine deschedules, wall
// time would count that) as the minimum and median of each round, and a hash of the output, which
// must be equal across builds when the kernel's bits are meant to be the same. --pieces N runs the
// call as N equal head ranges one after another (attention_heads; what the thread pool's pieces
// cost in CPU, e.g. 5 = one kv group each, 10 = half groups; same output).
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: o, positionals: files } = parseArgs({
  allowPositionals: true,
  options: { positions: { type: 'string', default: '512,1024,4096' }, cache: { type: 'string', default: 'f32' }, rounds: { type: 'string', default: '5' }, pieces: { type: 'string', default: '1' } },
});
if (!files.length) { console.error('usage: node bench/attention-ab.mjs [--positions L] [--cache f32|f16] [--rounds N] A.wasm B.wasm ...'); process.exit(2); }
const nHead = 20, nKv = 5, hd = 128;

async function setup(file, nPos) {
  const { instance } = await WebAssembly.instantiate(readFileSync(file), { env: { bitnet_abort: (l) => { throw new Error(`wasm abort ${l}`); } } });
  const e = instance.exports;
  let top = (e.heap_base() + 15) & ~15;
  const alloc = (n) => {
    const p = top; top = (top + n + 15) & ~15;
    const need = top - e.memory.buffer.byteLength;
    if (need > 0) e.memory.grow(Math.ceil(need / 65536));
    return p;
  };
  const n = nPos * nKv * hd;
  const q = alloc(nHead * hd * 4), k = alloc(n * 4), v = alloc(n * 4), out = alloc(nHead * hd * 4);
  const scratch = alloc(e.attention_scratch_bytes(nHead, nKv, hd, nPos)), k16 = alloc(n * 2), v16 = alloc(n * 2);
  const f32 = new Float32Array(e.memory.buffer);
  for (let i = 0; i < nHead * hd; i++) f32[(q >> 2) + i] = Math.sin(i) * 0.1 * (1 + (i % 7));
  for (let i = 0; i < n; i++) { f32[(k >> 2) + i] = Math.cos(i * 0.7) * 0.3; f32[(v >> 2) + i] = Math.sin(i * 0.3); }
  e.kv_store_f16(k, n, k16); e.kv_store_f16(v, n, v16);
  const pieces = Number(o.pieces), f16 = o.cache === 'f16' ? 1 : 0;
  const fn = pieces > 1
    ? () => { for (let i = 0; i < pieces; i++) e.attention_heads(q, f16 ? k16 : k, f16 ? v16 : v, nHead, nKv, hd, nPos, out, scratch, Math.floor(i * nHead / pieces), Math.floor((i + 1) * nHead / pieces), f16); }
    : f16 ? () => e.attention_f16(q, k16, v16, nHead, nKv, hd, nPos, out, scratch)
    : () => e.attention(q, k, v, nHead, nKv, hd, nPos, out, scratch);
  fn();
  const hash = createHash('sha256').update(new Uint8Array(e.memory.buffer, out, nHead * hd * 4)).digest('hex').slice(0, 12);
  return { file, fn, hash, min: [], med: [] };
}

for (const nPos of o.positions.split(',').map(Number)) {
  const runs = [];
  for (const f of files) runs.push(await setup(f, nPos));
  const reps = Math.max(5, Math.round(20000 / nPos));
  for (let r = 0; r < Number(o.rounds); r++) {
    for (const it of runs) {
      const t = [];
      for (let i = 0; i < reps; i++) { const c0 = process.cpuUsage(); it.fn(); const c = process.cpuUsage(c0); t.push((c.user + c.system) / 1000); }
      t.sort((a, b) => a - b);
      it.min.push(t[0]); it.med.push(t[t.length >> 1]);
    }
  }
  const fmt = (xs) => xs.map((x) => x.toFixed(3)).join(' ');
  for (const it of runs) console.log(`${nPos} ${o.cache} ${it.file}: output ${it.hash}; CPU ms/call, min per round ${fmt(it.min)}; median per round ${fmt(it.med)}`);
}
