// Where the .wasm files are, relative to this module. The dist bundle is rewritten by
// rollup.config.mjs to look next to itself ('./'), where the build copies them.
export type BuildName = 'simd128' | 'relaxed';
/** A .wasm file: a build with its own memory, or its -mt twin (threads, imported shared memory). */
export type WasmFile = BuildName | `${BuildName}-mt`;

export function wasmFileUrl(build: WasmFile): URL {
  // The base is a variable on purpose: bundlers rewrite `new URL('...', import.meta.url)` into
  // asset lookups (vite's dep optimizer turns this template into `.vite/deps/undefined`). Only
  // Node, Deno and Bun use this path; the browser entry carries the wasm inline (src/entries/browser.ts).
  const here = import.meta.url;
  return new URL(`../build/bitnet-${build}.wasm`, here);
}
