// Compiles assembly/ into the four builds of asconfig.json: simd128 and simd128 + relaxed SIMD, each once with its
// own memory and once with threads on an imported shared memory (-mt, for the worker pool). The compilations
// run side by side (asc is single-threaded; this cuts the wall time of a fresh `npm start`).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const asc = require.resolve('assemblyscript/bin/asc.js');
mkdirSync('build', { recursive: true });
// Entries, flags and the four targets live in asconfig.json (editors and `npx asc --config asconfig.json
// --target relaxed` read the same file).
const NAMES = ['simd128', 'relaxed', 'simd128-mt', 'relaxed-mt'];
const builds = NAMES.map((name) => new Promise((ok) => {
  const child = spawn(process.execPath, [asc, '--config', 'asconfig.json', '--target', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Binaryen's optimizer says "Last converge was suboptimal." when its fixed-point loop stops early (a
  // note, not an error: the output is valid and the same every time); new users read it as a failure.
  for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
    createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => { if (line !== 'Last converge was suboptimal.') to.write(`${line}\n`); });
  }
  child.on('close', (code, sig) => ok(code === 0 ? null : `${name} build failed (${code ?? sig})`)); // (close: after its output is read)
}));
const errors = (await Promise.all(builds)).filter(Boolean);
if (errors.length) { console.error(errors.join('\n')); process.exit(1); }
// Linear memory belongs to the JS heap (bindings/heap.ts): a wasm-side allocator would hand out the
// same bytes, so the build must not contain one.
const wat = Object.fromEntries(NAMES.map((name) => [name, readFileSync(`build/bitnet-${name}.wat`, 'utf8')]));
for (const name of NAMES) {
  if (/__alloc|~lib\/rt\//.test(wat[name])) {
    throw new Error(`build/bitnet-${name}.wasm links AssemblyScript's allocator: something in assembly/ allocates (new, arrays, strings)`);
  }
}
// Every instance of a -mt build (the caller's and each worker's) writes the module's active data
// segments into the one shared memory when it is instantiated, possibly while another thread runs.
// That is harmless only if they hold constants: require exactly the segments of the build with its
// own memory (constant tables; zero-initialised statics such as forward.ts's OFFSETS are left out by
// --zeroFilledMemory, so a worker starting never resets them) and no start function.
const segments = (text) => text.split('\n').filter((l) => /^\s*\(data\b/.test(l)).join('\n');
for (const name of ['simd128', 'relaxed']) {
  if (segments(wat[`${name}-mt`]) !== segments(wat[name])) throw new Error(`build/bitnet-${name}-mt.wasm: its data segments differ from build/bitnet-${name}.wasm's (see scripts/build-wasm.mjs)`);
  if (/^\s*\(start\b/m.test(wat[`${name}-mt`])) throw new Error(`build/bitnet-${name}-mt.wasm has a start function: it would run again in every worker`);
}
