// `npm run build` / `npm start`: builds the wasm (scripts/build-wasm.mjs) and dist/ (rollup) only
// when an input is newer than what was built from it, so a second `npm start` starts at once.
//   node scripts/build.mjs [--force]
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const force = process.argv.includes('--force');

/** Newest modification time under the given files and folders (0 when none exist). */
function newest(paths) {
  let t = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const s = statSync(p);
    if (s.isDirectory()) t = Math.max(t, newest(readdirSync(p).map((e) => join(p, e))));
    else t = Math.max(t, s.mtimeMs);
  }
  return t;
}
/** Oldest modification time of the outputs; 0 when one is missing (so it must be built). */
const oldest = (paths) => (paths.every(existsSync) ? Math.min(...paths.map((p) => statSync(p).mtimeMs)) : 0);

const steps = [
  { name: 'wasm (assembly/ -> build/*.wasm)', inputs: ['assembly', 'scripts/build-wasm.mjs', 'package-lock.json'],
    outputs: ['build/bitnet-simd128.wasm', 'build/bitnet-relaxed.wasm', 'build/bitnet-simd128-mt.wasm', 'build/bitnet-relaxed-mt.wasm'], cmd: ['scripts/build-wasm.mjs'] },
  { name: 'dist/ (rollup)', inputs: ['src', 'bindings', 'build/bitnet-simd128.wasm', 'build/bitnet-relaxed.wasm', 'build/bitnet-simd128-mt.wasm', 'build/bitnet-relaxed-mt.wasm', 'rollup.config.mjs', 'tsconfig.json', 'package.json', 'package-lock.json'],
    outputs: ['dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'dist/browser.js', 'dist/workerd.js', 'dist/worker.js', 'dist/worker.d.ts', 'dist/engine-worker.js', 'dist/bitnet-simd128.wasm', 'dist/bitnet-relaxed.wasm', 'dist/bitnet-simd128-mt.wasm', 'dist/bitnet-relaxed-mt.wasm'],
    cmd: ['node_modules/rollup/dist/bin/rollup', '-c', '--silent'] },
];
// The same rollup run writes the benchmark suite's bundles for browsers and workerd (not packaged).
steps[1].outputs.push('build/bench/browser.js', 'build/bench/workerd.js');
for (const s of steps) {
  if (!force && oldest(s.outputs) > newest(s.inputs)) continue;
  console.error(`building ${s.name}`);
  execFileSync(process.execPath, s.cmd, { stdio: 'inherit' });
}
