// dist/: one ESM bundle + its .d.ts + both .wasm builds next to it.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

// Start from an empty dist/: stale chunks (their names carry hashes) would be packed otherwise.
rmSync('dist', { recursive: true, force: true });

// In the source tree the .wasm files are in build/; in dist they sit next to the bundle.
const wasmNextToBundle = {
  name: 'wasm-next-to-bundle',
  transform(code, id) {
    if (!id.endsWith('wasm-location.ts')) return null;
    return { code: code.replace('../build/bitnet-', './bitnet-'), map: null };
  },
  writeBundle() {
    mkdirSync('dist', { recursive: true });
    for (const b of ['simd128', 'relaxed']) copyFileSync(`build/bitnet-${b}.wasm`, `dist/bitnet-${b}.wasm`);
  },
};

// dist/browser.js and dist/workerd.js (package export conditions "browser" and "workerd"): one
// self-contained file each (no bare imports, no node: modules, so a page can import it as is and
// workerd / wrangler / esbuild need no Node shims). File paths are Node/Deno/Bun only: there the
// dynamic import of node:fs/promises resolves to a module that throws a clear error.
const webBuild = {
  name: 'web-build',
  resolveId(id) {
    if (id === 'node:fs/promises') return '\0node-fs-unavailable';
    if (id === '@huggingface/jinja') return fileURLToPath(import.meta.resolve('@huggingface/jinja'));
    return null;
  },
  load(id) {
    if (id !== '\0node-fs-unavailable') return null;
    return `const no = () => { const e = new Error('file paths need Node, Deno or Bun; in this runtime pass bytes, a URL, a Blob or a ReadableStream'); e.code = 'BAD_ARGUMENT'; throw e; };
export const open = no, readFile = no, stat = no;
export default { open, readFile, stat };`;
  },
};
const webEntry = (name) => ({
  input: `bindings/${name}.ts`,
  output: { file: `dist/${name}.js`, format: 'es', sourcemap: true, inlineDynamicImports: true },
  external: (id) => id.endsWith('.wasm'),
  plugins: [webBuild, wasmNextToBundle, typescript({ tsconfig: './tsconfig.json', declaration: false, outDir: 'dist', include: ['src/**/*.ts', 'bindings/**/*.ts'] })],
});

export default [
  {
    input: { index: 'src/index.ts', cli: 'src/cli/bin.ts' },
    output: { dir: 'dist', format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    external: [/^node:/, '@huggingface/jinja', 'node-llama-cpp', 'llama-tokenizer-js', 'llama3-tokenizer-js'],
    plugins: [wasmNextToBundle, typescript({ tsconfig: './tsconfig.json', declaration: false, outDir: 'dist', include: ['src/**/*.ts', 'bindings/**/*.ts'] })],
  },
  {
    input: 'src/index.ts',
    output: { file: 'dist/index.d.ts', format: 'es' },
    plugins: [dts()],
  },
  webEntry('browser'),
  webEntry('workerd'),
];
