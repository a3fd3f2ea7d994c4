// Runs a TypeScript tool of tools/train/ (which imports the repo's src/ directly): bundles it
// with the repo's rolldown into tools/train/.cache/ and runs the bundle with this Node.
//   node tools/train/run-ts.mjs tools/train/prepare.ts [args...]
// The bundle sits in tools/train/.cache/bin/, and the .wasm builds are copied to
// tools/train/.cache/build/, where the library's wasm locator (../build/ from the module) looks.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) { console.error('usage: node tools/train/run-ts.mjs FILE.ts [args...]'); process.exit(2); }
const out = resolve('tools/train/.cache/bin', basename(entry).replace(/\.ts$/, '.mjs'));
mkdirSync('tools/train/.cache/build', { recursive: true });
for (const b of ['simd128', 'relaxed']) copyFileSync(`build/bitnet-${b}.wasm`, `tools/train/.cache/build/bitnet-${b}.wasm`);
const b = spawnSync(process.execPath, ['node_modules/rolldown/bin/cli.mjs', entry, '--file', out, '--platform', 'node', '--format', 'esm'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (b.status !== 0) process.exit(b.status ?? 1);
const r = spawnSync(process.execPath, [out, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
