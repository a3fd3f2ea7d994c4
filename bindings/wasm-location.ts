// Where the .wasm files are, relative to this module. The dist bundle is rewritten by
// rollup.config.mjs to look next to itself ('./'), where the build copies them.
export type BuildName = 'simd128' | 'relaxed';

export function wasmFileUrl(build: BuildName): URL {
  return new URL(`../build/bitnet-${build}.wasm`, import.meta.url);
}
