// dist/: one ESM bundle + its .d.ts + both .wasm builds next to it.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

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

export default [
  {
    input: existsSync('src/cli/info.ts') ? { index: 'src/index.ts', cli: 'src/cli/bin.ts' } : { index: 'src/index.ts' },
    output: { dir: 'dist', format: 'es', sourcemap: true, entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    external: [/^node:/, '@huggingface/jinja', 'node-llama-cpp', 'llama-tokenizer-js', 'llama3-tokenizer-js'],
    plugins: [wasmNextToBundle, typescript({ tsconfig: './tsconfig.json', declaration: false, outDir: 'dist', include: ['src/**/*.ts', 'bindings/**/*.ts'] })],
  },
  {
    input: 'src/index.ts',
    output: { file: 'dist/index.d.ts', format: 'es' },
    plugins: [dts()],
  },
];
