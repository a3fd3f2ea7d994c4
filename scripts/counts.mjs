// The test runner's bookkeeping (scripts/test.mjs): turns each pass's report and exit status into
// counts that cannot flatter the run, and prints the one final line "N passed, N failed, N skipped".
// Pure functions plus one small class so test/runner-counts.test.ts can check every rule.
import { existsSync, readFileSync } from 'node:fs';

/**
 * Counts of one vitest pass from its JSON report (`--reporter=json --outputFile.json=FILE`) and
 * its exit status. The caller deletes FILE before the pass, so a missing file means vitest did not
 * get as far as reporting (it could not start, or it crashed).
 * @returns {{ passed: number, failed: number, skipped: number, notes: string[] }}
 */
export function vitestCounts(file, status, label) {
  let j = null;
  if (existsSync(file)) {
    try { j = JSON.parse(readFileSync(file, 'utf8')); } catch { j = null; }
  }
  if (!j || typeof j.numPassedTests !== 'number') {
    return { passed: 0, failed: 1, skipped: 0, notes: [`vitest on ${label} wrote no readable report (exit ${status}): it did not start or crashed, so none of its tests count`] };
  }
  const notes = [];
  let failed = j.numFailedTests;
  for (const f of j.testResults ?? []) {
    for (const a of f.assertionResults ?? []) if (a.status === 'failed') notes.push(`vitest on ${label}: ${f.name.replace(process.cwd() + '/', '')} > ${a.fullName ?? a.title}`);
  }
  // A file that fails to load (syntax error, import error, a throwing beforeAll) has no failed test
  // of its own: count each such file once.
  const brokenFiles = (j.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'));
  for (const f of brokenFiles) notes.push(`vitest on ${label}: ${f.name} failed outside any test: ${String(f.message ?? '').split('\n')[0].slice(0, 200)}`);
  failed += brokenFiles.length;
  if (j.numTotalTests === 0 && failed === 0) { failed = 1; notes.push(`vitest on ${label} ran no test`); }
  if (status !== 0 && failed === 0) { failed = 1; notes.push(`vitest on ${label} exited with status ${status} but reported no failing test`); }
  return { passed: j.numPassedTests, failed, skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0), notes };
}

/**
 * Counts of a runner script (the runtime matrix, the consumer test) from its output's line
 * "LABEL: N passed, N failed[, N skipped]". Its skipped items are runtimes or checks that did not
 * run: they make the run incomplete.
 */
export function runnerCounts(label, stdout, status) {
  const esc = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${esc}: (\\d+) passed, (\\d+) failed(?:, (\\d+) skipped)?`).exec(stdout);
  if (!m) return { passed: 0, failed: 1, skipped: 0, notes: [`the ${label} printed no counts (exit ${status})`] };
  const c = { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3] ?? 0), notes: [], incomplete: [] };
  if (c.skipped > 0) c.incomplete.push(`the ${label} skipped ${c.skipped} runtime(s) or check(s) (see the lines marked SKIP above)`);
  if (status !== 0 && c.failed === 0 && c.skipped === 0) { c.failed = 1; c.notes.push(`the ${label} exited with status ${status} but reported no failure`); }
  return c;
}

/** Running totals; finish() prints why the run is not green, the final line, and exits. */
export class Tally {
  passed = 0; failed = 0; skipped = 0;
  notes = []; incomplete = [];
  constructor(log = console.log, exit = process.exit) { this.log = log; this.exit = exit; }
  add(c) {
    this.passed += c.passed; this.failed += c.failed; this.skipped += c.skipped;
    this.notes.push(...(c.notes ?? [])); this.incomplete.push(...(c.incomplete ?? []));
  }
  fail(why) { this.failed += 1; this.notes.push(why); this.log(`\n!!! FAIL ${why}`); }
  /** A runtime or pass that did not run: counted as skipped, and the run is not green. */
  skipRuntime(why) { this.skipped += 1; this.incomplete.push(why); this.log(`\n!!!!!!!!!!\n!!! SKIP ${why}\n!!!!!!!!!!`); }
  line() { return `${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped`; }
  status() { return this.failed > 0 || this.incomplete.length > 0 ? 1 : 0; }
  finish() {
    if (this.notes.length || this.incomplete.length) {
      this.log('\nNot green because:');
      for (const n of this.notes) this.log(`  - ${n}`);
      for (const n of this.incomplete) this.log(`  - incomplete: ${n}`);
    }
    this.log(`\n${this.line()}`);
    return this.exit(this.status());
  }
}
