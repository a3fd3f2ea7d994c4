// What the public API says about WebAssembly, as small structural types: a consumer's TypeScript
// under `module: nodenext` without the DOM lib has no `WebAssembly` namespace and no `BufferSource`,
// so the published .d.ts must not name them (test/consumer checks it with skipLibCheck off).

/** A compiled `WebAssembly.Module` (e.g. workerd's `import mod from './bitnet-relaxed.wasm'`). */
export type CompiledWasmModule = object;

/** The bytes of a .wasm file. */
export type WasmBytes = ArrayBuffer | ArrayBufferView;

/** The part of a `WebAssembly.Memory` the library uses. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
