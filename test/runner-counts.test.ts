// The test runner's counting rules (scripts/counts.mjs): a run that did not happen is never counted as
// passing, and whatever did not run is in the final line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without types
import { Tally, runnerCounts, vitestCounts } from '../scripts/counts.mjs';

const dir = mkdtempSync(join(tmpdir(), 'bitnet-counts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const report = (j: object) => { const f = join(dir, `r${n++}.json`); writeFileSync(f, JSON.stringify(j)); return f; };
const base = { numTotalTests: 10, numPassedTests: 9, numFailedTests: 0, numPendingTests: 1, numTodoTests: 0, numFailedTestSuites: 0, testResults: [] };

describe('vitestCounts', () => {
  it('counts passed, failed and skipped (pending + todo) from the report', () => {
    expect(vitestCounts(report({ ...base, numTodoTests: 2, numTotalTests: 12 }), 0, 'x')).toEqual({ passed: 9, failed: 0, skipped: 3, notes: [] });
  });
  it('a missing report (vitest could not start) is one failure and no passes', () => {
    const c = vitestCounts(join(dir, 'never-written.json'), 1, 'node 20');
    expect([c.passed, c.failed, c.skipped]).toEqual([0, 1, 0]);
    expect(c.notes[0]).toMatch(/node 20 wrote no readable report \(exit 1\)/);
  });
  it('an unreadable report is one failure', () => {
    const f = join(dir, 'garbage.json'); writeFileSync(f, '{"numPassedTests": 4');
    expect(vitestCounts(f, 0, 'x')).toMatchObject({ passed: 0, failed: 1 });
  });
  it('a non-zero exit with no failing test counts one failure', () => {
    const c = vitestCounts(report(base), 1, 'x');
    expect([c.passed, c.failed]).toEqual([9, 1]);
    expect(c.notes[0]).toMatch(/exited with status 1 but reported no failing test/);
  });
  it('a non-zero exit with failing tests counts just those tests', () => {
    expect(vitestCounts(report({ ...base, numPassedTests: 7, numFailedTests: 2 }), 1, 'x')).toMatchObject({ passed: 7, failed: 2 });
  });
  it('a file that failed to load counts once, next to the failed tests of other files', () => {
    const j = {
      ...base, numFailedTests: 1, numFailedTestSuites: 2,
      testResults: [
        { name: 'a.test.ts', status: 'failed', message: 'SyntaxError: x', assertionResults: [] },
        { name: 'b.test.ts', status: 'failed', assertionResults: [{ status: 'failed', fullName: 'suite adds' }, { status: 'passed' }] },
      ],
    };
    const c = vitestCounts(report(j), 1, 'x');
    expect(c.failed).toBe(2);
    expect(c.notes).toEqual(['vitest on x: b.test.ts > suite adds', 'vitest on x: a.test.ts failed outside any test: SyntaxError: x']);
  });
  it('a run of zero tests is a failure', () => {
    expect(vitestCounts(report({ ...base, numTotalTests: 0, numPassedTests: 0, numPendingTests: 0 }), 0, 'x')).toMatchObject({ passed: 0, failed: 1 });
  });
});

describe('runnerCounts', () => {
  it('reads "runtime matrix: N passed, N failed, N skipped"; skips make the run incomplete', () => {
    const c = runnerCounts('runtime matrix', 'ok a\nruntime matrix: 30 passed, 0 failed, 2 skipped\n', 1);
    expect([c.passed, c.failed, c.skipped, c.incomplete.length]).toEqual([30, 0, 2, 1]);
  });
  it('no counts line is one failure', () => {
    expect(runnerCounts('runtime matrix', 'Error: boom\n', 1)).toMatchObject({ passed: 0, failed: 1, skipped: 0 });
  });
  it('reads a runner without a skipped count, and only its own label', () => {
    expect(runnerCounts('consumer test', 'runtime matrix: 9 passed, 9 failed\nconsumer test: 12 passed, 1 failed\n', 1)).toMatchObject({ passed: 12, failed: 1, skipped: 0 });
  });
  it('a non-zero exit with nothing failed or skipped is one failure', () => {
    expect(runnerCounts('runtime matrix', 'runtime matrix: 30 passed, 0 failed, 0 skipped', 1)).toMatchObject({ passed: 30, failed: 1 });
  });
});

describe('Tally', () => {
  const run = (f: (t: InstanceType<typeof Tally>) => void) => {
    const lines: string[] = []; let code = -1;
    const t = new Tally((s: string) => lines.push(s), (c: number) => { code = c; });
    f(t); t.finish();
    return { last: lines[lines.length - 1].trim(), code, text: lines.join('\n') };
  };
  it('all passed: exit 0 and the three counts', () => {
    expect(run((t) => t.add({ passed: 5, failed: 0, skipped: 1 }))).toMatchObject({ last: '5 passed, 0 failed, 1 skipped', code: 0 });
  });
  it('a failure: exit 1 and the reason listed before the final line', () => {
    const r = run((t) => { t.add({ passed: 5, failed: 0, skipped: 0 }); t.fail('rollup failed'); });
    expect(r).toMatchObject({ last: '5 passed, 1 failed, 0 skipped', code: 1 });
    expect(r.text).toMatch(/Not green because:\n {2}- rollup failed/);
  });
  it('a runtime that did not run is skipped, never a pass, and the exit is non-zero', () => {
    const r = run((t) => { t.add({ passed: 5, failed: 0, skipped: 0 }); t.skipRuntime('node 24 missing'); });
    expect(r).toMatchObject({ last: '5 passed, 0 failed, 1 skipped', code: 1 });
    expect(r.text).toMatch(/incomplete: node 24 missing/);
  });
});
