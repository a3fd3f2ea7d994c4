// Compiles assembly/ into the two builds: simd128 and simd128 + relaxed SIMD.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const asc = require.resolve('assemblyscript/bin/asc.js');
mkdirSync('build', { recursive: true });
const common = ["assembly/index.ts", "assembly/env.ts", '-O3', '--noAssert', '--runtime', 'minimal', '--converge',
  '--enable', 'simd', '--disable', 'reference-types', '--disable', 'gc', '--disable', 'multi-value',
  '--use', 'abort=assembly/env/abort'];
for (const [name, extra] of [['simd128', []], ['relaxed', ['--enable', 'relaxed-simd']]]) {
  execFileSync(process.execPath, [asc, ...common, ...extra, '-o', `build/bitnet-${name}.wasm`, '-t', `build/bitnet-${name}.wat`], { stdio: 'inherit' });
}
