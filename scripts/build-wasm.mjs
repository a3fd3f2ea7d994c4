// Compiles assembly/ into the two builds of asconfig.json: simd128 and simd128 + relaxed SIMD. The two compilations
// run side by side (asc is single-threaded; this halves the wall time of a fresh `npm start`).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const asc = require.resolve('assemblyscript/bin/asc.js');
mkdirSync('build', { recursive: true });
// Entries, flags and the two targets live in asconfig.json (editors and `npx asc --config asconfig.json
// --target relaxed` read the same file).
const builds = ['simd128', 'relaxed'].map((name) => new Promise((ok) => {
  const child = spawn(process.execPath, [asc, '--config', 'asconfig.json', '--target', name], { stdio: 'inherit' });
  child.on('exit', (code, sig) => ok(code === 0 ? null : `${name} build failed (${code ?? sig})`));
}));
const errors = (await Promise.all(builds)).filter(Boolean);
if (errors.length) { console.error(errors.join('\n')); process.exit(1); }
// Linear memory belongs to the JS heap (bindings/heap.ts): a wasm-side allocator would hand out the
// same bytes, so the build must not contain one.
for (const name of ['simd128', 'relaxed']) {
  if (/__alloc|~lib\/rt\//.test(readFileSync(`build/bitnet-${name}.wat`, 'utf8'))) {
    throw new Error(`build/bitnet-${name}.wasm links AssemblyScript's allocator: something in assembly/ allocates (new, arrays, strings)`);
  }
}
