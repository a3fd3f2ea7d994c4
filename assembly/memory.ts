// Linear-memory allocation for the JS side. The TLSF allocator of AssemblyScript's "minimal"
// runtime (no GC ever runs: nothing here allocates managed objects) so that dispose() really
// returns memory; the "stub" runtime can only bump and never frees.

/** Allocates `size` bytes aligned to 16 (TLSF's block alignment). Traps (abort) when memory cannot grow. */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Bytes of linear memory currently reserved (for memory accounting in tests). */
export function memory_bytes(): usize {
  return <usize>memory.size() << 16;
}
