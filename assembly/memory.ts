// Linear memory is allocated on the JS side (bindings/heap.ts), the one owner of everything above
// the module's static data: the wasm itself never allocates (no runtime allocator is linked; the
// build checks it), so threads or hosts sharing this memory have a single allocator to agree with.

/** First byte above the static data: where the JS heap starts. */
export function heap_base(): usize {
  return __heap_base;
}

/** Bytes of linear memory currently reserved (for memory accounting in tests). */
export function memory_bytes(): usize {
  return <usize>memory.size() << 16;
}
