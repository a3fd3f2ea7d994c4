// Run results as text: one markdown or CSV table per suite, columns from the results themselves.
import type { BenchResult, BenchRun, SuiteName } from './types.js';

const ID_COLUMNS = ['engine', 'runtime', 'build', 'kernel', 'threads', 'test'] as const;

const fmt = (v: number | string | undefined) => (v === undefined ? '' : typeof v === 'string' ? v : Number.isInteger(v) && Math.abs(v) < 1e6 ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));

function table(results: BenchResult[]): { head: string[]; rows: string[][] } {
  const params = [...new Set(results.flatMap((r) => Object.keys(r.params)))];
  const metrics = [...new Set(results.flatMap((r) => Object.keys(r.metrics)))];
  const head = [...ID_COLUMNS, ...params, ...metrics, 'reps'];
  const rows = results.map((r) => [...ID_COLUMNS.map((c) => String(r[c])), ...params.map((p) => fmt(r.params[p])), ...metrics.map((m) => fmt(r.metrics[m])), String(r.repetitions)]);
  return { head, rows };
}

export function groupBySuite(results: BenchResult[]): Map<SuiteName, BenchResult[]> {
  const g = new Map<SuiteName, BenchResult[]>();
  for (const r of results) g.set(r.suite, [...(g.get(r.suite) ?? []), r]);
  return g;
}

export function markdownTable(head: string[], rows: string[][]): string[] {
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === '' || /^-?[\d.]+$/.test(r[i])));
  return [`| ${head.join(' | ')} |`, `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** One line per runtime that ran: engine version, CPU, cores, builds, the calibration's choice. */
export function environmentLines(run: BenchRun): string[] {
  return (run.envs ?? [run.env]).map((e) => `${e.package} on ${e.runtime}, ${e.cpu} (${e.cores} cores), ${e.os}; builds ${e.builds.join(', ')}; default ${e.defaultKernel} (calibrated: GEMV ${e.calibration?.gemv ?? '?'}, GEMM ${e.calibration?.gemm ?? '?'})`);
}

export function formatMarkdown(run: BenchRun): string {
  const out = [...environmentLines(run), run.date, ''];
  for (const [suite, rs] of groupBySuite(run.results)) {
    const t = table(rs);
    out.push(`### ${suite}`, '', ...markdownTable(t.head, t.rows), '');
  }
  for (const n of run.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function formatCsv(run: BenchRun): string {
  const t = table(run.results);
  return [['suite', ...t.head], ...t.rows.map((r, i) => [run.results[i].suite, ...r])].map((r) => r.map(csvCell).join(',')).join('\n');
}
