// dist/: one ESM bundle (+ a CommonJS one for `require`) + its .d.ts (+ .d.cts) + both .wasm builds
// next to it; the browser and workerd entries. No source maps: the package ships dist/ only, so
// maps would point at sources that are not there.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rollup } from 'rollup';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { dts } from 'rollup-plugin-dts';

// Start from an empty dist/: stale chunks (their names carry hashes) would be packed otherwise.
rmSync('dist', { recursive: true, force: true });

// TypeScript to JavaScript one file at a time (tsconfig has isolatedModules), with esbuild: a few
// seconds instead of a type-checking program per bundle. Types are checked by `npm run typecheck`
// and the .d.ts build. Imports './x.js' and './x' in the sources resolve to './x.ts' or './x/index.ts'.
const ts = () => ({
  name: 'ts-transpile',
  resolveId(source, importer) {
    if (!importer?.endsWith('.ts') || !source.startsWith('.')) return null;
    const base = fileURLToPath(new URL(source, `file://${importer}`));
    return [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`].find((f) => f.endsWith('.ts') && existsSync(f)) ?? null;
  },
  async transform(code, id) {
    if (!id.endsWith('.ts')) return null;
    const r = await transform(code, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: id, tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } } });
    return { code: r.code, map: null };
  },
});

// In the source tree the .wasm files are in build/; in dist they sit next to the bundle.
const wasmNextToBundle = {
  name: 'wasm-next-to-bundle',
  transform(code, id) {
    if (!id.endsWith('wasm-location.ts')) return null;
    return { code: code.replace('../build/bitnet-', './bitnet-'), map: null };
  },
  writeBundle() {
    mkdirSync('dist', { recursive: true });
    for (const b of ['simd128', 'relaxed', 'simd128-mt', 'relaxed-mt']) copyFileSync(`build/bitnet-${b}.wasm`, `dist/bitnet-${b}.wasm`);
  },
};

// dist/browser.js and dist/workerd.js (package export conditions "browser" and "workerd"): one
// self-contained file each (no bare imports, no node: modules, so a page can import it as is and
// workerd / wrangler / esbuild need no Node shims). File paths are Node/Deno/Bun only: there the
// dynamic import of node:fs/promises resolves to a module that throws a clear error.
const webBuild = {
  name: 'web-build',
  resolveId(id) {
    const inline = /bitnet-((?:simd128|relaxed)(?:-mt)?)\.wasm\?base64$/.exec(id);
    if (inline) return `\0wasm-base64:${inline[1]}`;
    if (id === 'node:fs/promises') return '\0node-fs-unavailable';
    // bindings/pool.ts asks for these only where process.versions.node is set (Node, Deno, Bun).
    if (id === 'node:worker_threads' || id === 'node:os') return '\0node-threads-unavailable';
    if (id === '@huggingface/jinja') return fileURLToPath(import.meta.resolve('@huggingface/jinja'));
    return null;
  },
  load(id) {
    if (id.startsWith('\0wasm-base64:')) return `export default ${JSON.stringify(readFileSync(`build/bitnet-${id.slice('\0wasm-base64:'.length)}.wasm`).toString('base64'))};`;
    if (id === '\0node-threads-unavailable') return 'export const Worker = undefined, availableParallelism = undefined, cpus = () => [];';
    if (id !== '\0node-fs-unavailable') return null;
    return `const no = () => { const e = new Error('file paths need Node, Deno or Bun; in this runtime pass bytes, a URL, a Blob or a ReadableStream'); e.code = 'BAD_ARGUMENT'; throw e; };
export const open = no, readFile = no, stat = no;
export default { open, readFile, stat };`;
  },
};
const webEntry = (name) => ({
  input: `src/entries/${name}.ts`,
  output: { file: `dist/${name}.js`, format: 'es', inlineDynamicImports: true },
  external: (id) => id.endsWith('.wasm'),
  plugins: [webBuild, wasmNextToBundle, ts()],
});

// dist/worker.js (export "./worker"): the page side of a worker model, with the engine worker's
// script (src/entries/engine-worker.ts, a web build like dist/browser.js) inlined as text for a blob:
// URL; the same script is also written as dist/engine-worker.js for pages that start it themselves.
let engineWorker = null;
const engineWorkerSource = {
  name: 'engine-worker-source',
  resolveId: (id) => (id === './engine-worker.js?source' ? '\0engine-worker-source' : null),
  async load(id) {
    if (id !== '\0engine-worker-source') return null;
    engineWorker ??= (async () => {
      const b = await rollup({ ...webEntry('engine-worker'), output: undefined, onwarn: (w, warn) => warn(w) });
      const { output } = await b.generate({ format: 'es', inlineDynamicImports: true });
      await b.close();
      // Whitespace and syntax only: names stay, so the worker's stack traces stay readable.
      return (await transform(output[0].code, { minifyWhitespace: true, minifySyntax: true, format: 'esm', target: 'es2022' })).code;
    })();
    return `export default ${JSON.stringify(await engineWorker)};`;
  },
  async writeBundle() { writeFileSync('dist/engine-worker.js', await engineWorker); },
};

// `bitnet-wasm bench` times with tinybench (a dev dependency): bundled into the CLI, so an installed
// package needs nothing more.
const bundleTinybench = { name: 'bundle-tinybench', resolveId: (id) => (id === 'tinybench' ? fileURLToPath(import.meta.resolve('tinybench')) : null) };

// The benchmark suite for browsers and workerd (bench-hosts.mjs of the runtime runner), in build/:
// not in the package. Node-only modules are reached only on Node's paths (files, llama.cpp, CPU name).
const benchEntry = (name) => ({
  input: `src/entries/bench-${name}.ts`,
  output: { file: `build/bench/${name}.js`, format: 'es', inlineDynamicImports: true },
  external: (id) => id.endsWith('.wasm') || /^node:(os|fs|module|url|path)$/.test(id) || id === 'node-llama-cpp',
  plugins: [webBuild, bundleTinybench, ts()],
});

export default [
  {
    input: { index: 'src/index.ts', cli: 'src/cli/bin.ts' },
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    external: [/^node:/, '@huggingface/jinja', 'node-llama-cpp', 'llama-tokenizer-js', 'llama3-tokenizer-js'],
    plugins: [wasmNextToBundle, bundleTinybench, ts()],
  },
  // dist/index.cjs: `require('bitnet-wasm')` (exports condition "require"); one file, the same code.
  {
    input: 'src/index.ts',
    output: { file: 'dist/index.cjs', format: 'cjs', inlineDynamicImports: true },
    external: [/^node:/, '@huggingface/jinja'],
    plugins: [wasmNextToBundle, ts()],
  },
  {
    input: 'src/index.ts',
    output: { file: 'dist/index.d.ts', format: 'es' },
    // The same declarations serve `require` (a .d.cts next to index.cjs, as TypeScript's node16/nodenext expects).
    plugins: [dts(), { name: 'd-cts', writeBundle() { copyFileSync('dist/index.d.ts', 'dist/index.d.cts'); } }],
  },
  webEntry('browser'),
  webEntry('workerd'),
  { ...webEntry('worker'), plugins: [engineWorkerSource, ...webEntry('worker').plugins] },
  { input: 'src/entries/worker.ts', output: { file: 'dist/worker.d.ts', format: 'es' }, external: (id) => id.endsWith('?source'), plugins: [dts()] },
  benchEntry('browser'),
  benchEntry('workerd'),
];
