// The one owner of a module's linear memory above its static data: every buffer the library puts
// in wasm memory (packed weights, KV cache, scratch, staging) is a block of this heap. The wasm
// never allocates. Memory grows with `memory.grow` by what is missing, never doubling, so a
// model's reservation is one growth of exactly its size; freed blocks coalesce and are reused by
// the next load. Blocks have no size limit of their own: anything that fits below the limit
// (wasm32: 4 GiB, or a shared memory's declared maximum) can be allocated.
import { BitnetError } from './errors.js';
import type { WasmMemory } from './wasm-types.js';

export const WASM32_BYTES = 2 ** 32;
const PAGE = 65536;
/** Smallest growth (1 MiB): many small allocations should not each grow memory. */
const MIN_GROWTH = 16 * PAGE;
const ALIGN = 16;

interface Span { start: number; end: number }

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const align = (n: number) => Math.ceil(Math.max(n, 1) / ALIGN) * ALIGN;

export class LinearHeap {
  /** Free spans, sorted by address, never adjacent (coalesced). */
  private spans: Span[] = [];
  private blocks = new Map<number, number>();
  private _allocated = 0;
  /** Most bytes in live blocks at once since construction or the last resetPeak(). */
  peak = 0;
  readonly base: number;

  /** @param base first byte the heap may use (the module's __heap_base); @param limit bytes linear memory may reach. */
  constructor(private memory: WasmMemory, base: number, readonly limit = WASM32_BYTES) {
    const start = align(base);
    if (start < this.end) this.spans.push({ start, end: this.end });
    this.base = start;
  }

  /** Current size of linear memory. */
  get end(): number { return this.memory.buffer.byteLength; }
  /** Bytes in live blocks. */
  get allocated(): number { return this._allocated; }
  /** Bytes free for new blocks: up to the limit, minus what live blocks hold. */
  get available(): number { return this.limit - this.base - this._allocated; }

  /** A 16-byte aligned block. `high` takes it from the top of the highest free span that fits,
   *  for short-lived buffers (loading's staging) so that the blocks that stay pack from below. */
  alloc(size: number, what = 'buffer', high = false): number {
    if (!Number.isFinite(size) || size < 0) throw new BitnetError('BAD_ARGUMENT', `bad allocation size ${size}`);
    const n = align(size);
    let i = this.fit(n, high);
    if (i < 0) { this.grow(n, what, size); i = this.fit(n, high); }
    const s = this.spans[i];
    let ptr: number;
    if (high) { ptr = s.end - n; s.end = ptr; } else { ptr = s.start; s.start += n; }
    if (s.start === s.end) this.spans.splice(i, 1);
    this.blocks.set(ptr, n);
    this._allocated += n;
    if (this._allocated > this.peak) this.peak = this._allocated;
    return ptr;
  }

  resetPeak(): void { this.peak = this._allocated; }

  free(ptr: number): void {
    if (!ptr) return;
    const n = this.blocks.get(ptr);
    if (n === undefined) throw new BitnetError('BAD_ARGUMENT', `free of ${ptr}, which is not a live block`);
    this.blocks.delete(ptr);
    this._allocated -= n;
    this.insert(ptr, ptr + n);
  }

  /** Makes sure one free span of `size` bytes exists, growing memory once by what is missing:
   *  the blocks of a model load then need no further growth. */
  reserve(size: number, what = 'model'): void {
    const n = align(size);
    if (this.fit(n, false) < 0) this.grow(n, what, size, PAGE);
  }

  /** Index of the lowest (or, with high, highest) free span of at least n bytes; -1 if none. */
  private fit(n: number, high: boolean): number {
    if (high) { for (let i = this.spans.length - 1; i >= 0; i--) if (this.spans[i].end - this.spans[i].start >= n) return i; return -1; }
    for (let i = 0; i < this.spans.length; i++) if (this.spans[i].end - this.spans[i].start >= n) return i;
    return -1;
  }

  /** Grows memory so that the span at its top reaches n bytes. */
  private grow(n: number, what: string, asked: number, minGrowth = MIN_GROWTH): void {
    const end = this.end;
    const last = this.spans[this.spans.length - 1];
    const top = last && last.end === end ? last.end - last.start : 0;
    const need = n - top;
    if (end + need > this.limit) {
      const limit = this.limit === WASM32_BYTES ? "wasm32's 4 GiB" : `this memory's maximum of ${mib(this.limit)}`;
      throw new BitnetError('OUT_OF_MEMORY', `${what} needs ${asked} bytes (${mib(asked)}); linear memory is limited to ${limit}, `
        + `${mib(this._allocated)} of which are in use and ${mib(this.limit - end + top)} free in one piece`);
    }
    const pages = Math.ceil(Math.min(Math.max(need, minGrowth), this.limit - end) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new BitnetError('OUT_OF_MEMORY', `${what} needs ${asked} bytes (${mib(asked)}): the engine refused to grow linear memory `
        + `from ${mib(end)} to ${mib(end + pages * PAGE)} (below wasm32's 4 GiB: a limit of this engine or host)`, { cause: e });
    }
    this.insert(end, this.end);
  }

  private insert(start: number, end: number): void {
    const s = this.spans;
    let lo = 0, hi = s.length;
    while (lo < hi) { const m = (lo + hi) >>> 1; if (s[m].start < start) lo = m + 1; else hi = m; }
    const prev = s[lo - 1], next = s[lo];
    if (prev && prev.end === start) {
      prev.end = end;
      if (next && next.start === end) { prev.end = next.end; s.splice(lo, 1); }
    } else if (next && next.start === end) next.start = start;
    else s.splice(lo, 0, { start, end });
  }
}
