// What a run's JSON becomes for people: an HTML page with inline SVG charts, the README's
// performance table, and a comparison with an older run. All of it drawn from the JSON only.
import { environmentLines, formatMarkdown, markdownTable } from './format.js';
import { missingRuntimes } from './runtimes.js';
import { PRIMARY, resultKey, type BenchResult, type BenchRun } from './types.js';

interface Bar { label: string; value: number }

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));
/** "chromium 156.0.8078.114 (wllama ...)" -> "chromium 156": chart labels stay in their column. */
const shortRuntime = (rt: string) => rt.split(' (')[0].replace(/^(\S+) (\d+)\.[\w.]+$/, '$1 $2');
const label = (r: BenchResult) => `${r.engine === 'bitnet-wasm' ? '' : `${r.engine} `}${shortRuntime(r.runtime)} ${r.build}/${r.kernel}${r.threads > 1 ? ` ${r.threads}t` : ''}`.trim();

/** A horizontal bar chart; `limit` draws a line (e.g. 1.0 = all of the measured bandwidth). */
export function barChart(title: string, unit: string, bars: Bar[], limit?: number): string {
  if (!bars.length) return `<p><em>${esc(title)}: no results in this run</em></p>`;
  const rowH = 22, left = 360, width = 480, top = 28;
  const max = Math.max(limit ?? 0, ...bars.map((b) => b.value)) || 1;
  const h = top + bars.length * rowH + 10;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 90}" height="${h}" role="img" aria-label="${esc(title)}">`,
    `<text x="0" y="16" font-weight="bold">${esc(title)}</text>`];
  bars.forEach((b, i) => {
    const y = top + i * rowH, w = Math.max(1, (b.value / max) * width);
    parts.push(`<text x="${left - 6}" y="${y + 14}" text-anchor="end" font-size="12">${esc(b.label)}</text>`,
      `<rect x="${left}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${b.label.startsWith('llama.cpp') ? '#c0504d' : /dense/.test(b.label) ? '#9aa5b1' : '#2f6fb0'}"/>`,
      `<text x="${left + w + 4}" y="${y + 14}" font-size="12">${b.value.toFixed(b.value < 10 ? 2 : 1)} ${esc(unit)}</text>`);
  });
  if (limit !== undefined) {
    const x = left + (limit / max) * width;
    parts.push(`<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${h - 6}" stroke="#000" stroke-dasharray="4 3"/>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** The shape the charts and the README use: 2B4T's streamed projection (its largest) when it was run. */
function headlineShape(run: BenchRun): string | undefined {
  const k = run.results.filter((r) => r.suite === 'kernels');
  const streamed = k.filter((r) => r.params.mode === 'streamed');
  return (streamed.find((r) => r.params.model === '2B4T') ?? streamed[0] ?? k[0])?.params.shape as string | undefined;
}

/** The decode results (tg with the most tokens) of each model, in the order the run made them. */
function decodeByModel(run: BenchRun): Map<string, BenchResult[]> {
  const tg = run.results.filter((r) => r.suite === 'e2e' && r.test.startsWith('tg'));
  const longest = new Map<string, number>();
  for (const r of tg) longest.set(String(r.params.model), Math.max(longest.get(String(r.params.model)) ?? -Infinity, Number(r.params.n)));
  const out = new Map<string, BenchResult[]>();
  for (const r of tg) {
    const model = String(r.params.model);
    if (Number(r.params.n) === longest.get(model)) out.set(model, [...(out.get(model) ?? []), r]);
  }
  return out;
}

/** The result with the highest `metric` (the first of equals), or undefined. */
const best = (rs: BenchResult[], metric = 'tokPerSec') => rs.reduce<BenchResult | undefined>((a, r) => (!a || r.metrics[metric] > a.metrics[metric] ? r : a), undefined);
const who = (r: BenchResult) => `${r.engine} ${r.runtime.split(' (')[0]} ${r.build}/${r.kernel} ${r.threads}t`;
const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

/** The ratios the issue asks for, side by side in this run, each naming what it divides. */
export function headlines(run: BenchRun): string[] {
  const out: string[] = [];
  const shape = headlineShape(run);
  const gemv = run.results.filter((r) => r.suite === 'kernels' && r.params.shape === shape && r.params.n === 1 && r.params.mode === 'hot');
  for (const rt of [...new Set(gemv.map((r) => `${r.runtime}|${r.build}`))]) {
    const rs = gemv.filter((r) => `${r.runtime}|${r.build}` === rt);
    const f32 = rs.find((r) => r.kernel === 'dense-f32');
    const top = best(rs.filter((r) => !r.kernel.startsWith('dense')), 'gops');
    if (f32 && top) out.push(`Ternary vs f32, GEMV ${shape} hot, ${rt.replace('|', ' ')}: ${top.kernel} ${top.metrics.gops.toFixed(1)} GOPS = ${x(top.metrics.gops, f32.metrics.gops)} dense f32 (${f32.metrics.gops.toFixed(1)})`);
  }
  for (const [model, rs] of decodeByModel(run)) {
    const bitnet = rs.filter((r) => r.engine === 'bitnet-wasm');
    const chromium = bitnet.filter((r) => r.runtime.startsWith('chromium'));
    const wllama = rs.filter((r) => r.engine === 'wllama');
    const b1 = best(chromium.filter((r) => r.threads === 1)), w1 = best(wllama.filter((r) => r.threads === 1));
    const bb = best(chromium), wb = best(wllama);
    if (b1 && w1 && bb && wb) {
      out.push(`${model}, decode in Chromium, bitnet-wasm vs wllama: 1 thread ${b1.metrics.tokPerSec.toFixed(1)} vs ${w1.metrics.tokPerSec.toFixed(1)} tok/s = ${x(b1.metrics.tokPerSec, w1.metrics.tokPerSec)}; each at its best (${who(bb)}, ${who(wb)}) ${bb.metrics.tokPerSec.toFixed(1)} vs ${wb.metrics.tokPerSec.toFixed(1)} = ${x(bb.metrics.tokPerSec, wb.metrics.tokPerSec)}`);
    }
    const bn = best(bitnet), ln = best(rs.filter((r) => r.engine === 'llama.cpp'));
    if (bn && ln) out.push(`${model}, decode, bitnet-wasm vs native llama.cpp, each at its best (${who(bn)}; llama.cpp ${ln.threads}t): ${bn.metrics.tokPerSec.toFixed(1)} vs ${ln.metrics.tokPerSec.toFixed(1)} tok/s = ${x(bn.metrics.tokPerSec, ln.metrics.tokPerSec)}`);
    const bw = best(bitnet.filter((r) => r.metrics.bandwidthFraction !== undefined), 'bandwidthFraction');
    if (bw) out.push(`${model}, decode's weight traffic: ${bw.metrics.weightGBs.toFixed(1)} GB/s = ${bw.metrics.bandwidthFraction.toFixed(2)} of the measured bandwidth (${who(bw)})`);
  }
  return out;
}

export function charts(run: BenchRun): string[] {
  const shape = headlineShape(run);
  const k = run.results.filter((r) => r.suite === 'kernels' && r.params.shape === shape);
  const gemv = k.filter((r) => r.params.n === 1 && r.params.mode === 'hot').map((r) => ({ label: label(r), value: r.metrics.gops }));
  const maxN = Math.max(0, ...k.map((r) => Number(r.params.n)));
  const gemm = k.filter((r) => r.params.n === maxN && maxN > 1).map((r) => ({ label: label(r), value: r.metrics.gops }));
  const e2eBar = (r: BenchResult) => ({ label: `${label(r)} ${r.test}`, value: r.metrics.tokPerSec });
  const decode = [...decodeByModel(run)];
  // Prefill of the model with the most engines beside bitnet-wasm (the peers' model).
  const [main] = [...decode].sort((a, b) => new Set(b[1].map((r) => r.engine)).size - new Set(a[1].map((r) => r.engine)).size)[0] ?? [];
  const pp = run.results.filter((r) => r.suite === 'e2e' && r.test.startsWith('pp') && r.params.model === main);
  const bw = run.results.filter((r) => r.metrics.bandwidthFraction !== undefined)
    .map((r) => ({ label: `${label(r)} ${r.suite === 'e2e' ? `decode ${r.params.model}` : `gemv ${r.params.shape}`}`, value: r.metrics.bandwidthFraction }));
  const probe = run.results.find((r) => r.suite === 'probe');
  return [
    barChart(`GEMV ${shape ?? ''} (hot, weights in cache): GOPS by kernel x runtime`, 'GOPS', gemv),
    barChart(`GEMM n=${maxN} ${shape ?? ''} (hot): GOPS by kernel x runtime`, 'GOPS', gemm),
    ...(decode.length ? decode.map(([model, rs]) => barChart(`Decode ${model}: tok/s by engine x runtime x threads`, 'tok/s', rs.map(e2eBar))) : [barChart('Decode: tok/s by engine x threads', 'tok/s', [])]),
    barChart(`Prefill${main ? ` ${main}` : ''}: tok/s by engine x runtime x threads`, 'tok/s', pp.map(e2eBar)),
    barChart(`Fraction of the measured memory bandwidth (probe: ${probe ? probe.metrics.readGBs.toFixed(1) : '?'} GB/s read)`, '', bw, 1),
  ];
}

export function htmlReport(run: BenchRun): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bitnet-wasm benchmark</title>
<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}svg{display:block;margin:1.5em 0;font-family:system-ui,sans-serif}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}pre{white-space:pre-wrap}</style></head>
<body>
<h1>bitnet-wasm benchmark</h1>
${environmentLines(run).map((l) => `<p>${esc(l)}</p>`).join('\n')}<p>${esc(run.date)}</p>
${missingRuntimes(run).length ? `<p><strong>Runtimes not in this run:</strong></p>\n<ul>${missingRuntimes(run).map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<p>Command: <code>${esc(run.command)}</code>${run.quick ? ' (quick mode: short timings, small shapes)' : ''}. Drawn from <a href="run.json">run.json</a>.</p>
<h2>Headline ratios (same run)</h2>
<ul>${headlines(run).map((h) => `<li>${esc(h)}</li>`).join('\n')}</ul>
${charts(run).join('\n')}
<h2>All results</h2>
<pre>${esc(formatMarkdown(run))}</pre>
</body></html>
`;
}

/** The README's performance section (between the bench:begin and bench:end comments). */
export function readmeTable(run: BenchRun): string {
  const shape = headlineShape(run);
  const k = run.results.filter((r) => r.suite === 'kernels' && r.params.shape === shape && r.params.n === 1);
  const streamed = (r: BenchResult) => k.find((s) => s.params.mode === 'streamed' && s.kernel === r.kernel && s.build === r.build && s.runtime === r.runtime);
  const f = (v: number | undefined, d = 1) => (v === undefined ? '-' : v.toFixed(d));
  const kernelRows = k.filter((r) => r.params.mode === 'hot').map((r) => [r.runtime, r.build, r.kernel, f(r.metrics.gops), f(r.metrics.overF32, 2), f(streamed(r)?.metrics.weightGBs), f(streamed(r)?.metrics.bandwidthFraction, 2)]);
  const probes = run.results.filter((r) => r.suite === 'probe').map((r) => `${r.runtime.split(' (')[0]} ${r.metrics.readGBs.toFixed(1)}`);
  const decode = decodeByModel(run);
  const models = [...decode.keys()];
  const rowKey = (r: BenchResult) => `${r.engine}|${r.runtime}|${r.build}|${r.threads}`;
  const rowKeys = [...new Set([...decode.values()].flat().map(rowKey))];
  const cell = (key: string, model: string) => {
    const r = decode.get(model)!.find((x) => rowKey(x) === key);
    return r ? `${f(r.metrics.tokPerSec)}${r.metrics.bandwidthFraction !== undefined ? ` (${f(r.metrics.bandwidthFraction, 2)})` : ''}` : '-';
  };
  const e2eRows = rowKeys.map((key) => { const [engine, runtime, build, threads] = key.split('|'); return [engine, runtime, build, threads, ...models.map((m) => cell(key, m))]; });
  const lines = [
    `Measured with \`${run.command}\` (${run.date}):`,
    '',
    ...environmentLines(run).map((l) => `- ${l}`),
    ...missingRuntimes(run).map((n) => `- ${n}`),
    ...(probes.length ? ['', `Memory read bandwidth (wasm probe, same run, GB/s): ${probes.join(', ')}.`] : []),
    '',
    ...headlines(run).map((h) => `- ${h}`),
    '',
    `Kernels, GEMV ${shape ?? ''} (rows x columns; ${k[0]?.params.model ?? ''}), one thread; hot = weights in cache, streamed = weights read from memory at each call:`,
    '',
    ...markdownTable(['runtime', 'build', 'kernel', 'GOPS (hot)', 'x f32', 'streamed GB/s', 'of bandwidth'], kernelRows),
  ];
  if (e2eRows.length) lines.push('', `Decode tok/s (tg${Math.max(...[...decode.values()].flat().map((r) => Number(r.params.n)))}; in brackets: weight traffic as a fraction of the bandwidth):`, '', ...markdownTable(['engine', 'runtime', 'build', 'threads', ...models], e2eRows));
  return lines.join('\n');
}

export const README_BEGIN = '<!-- bench:begin (generated by bitnet-wasm bench --readme; do not edit by hand) -->';
export const README_END = '<!-- bench:end -->';

/** README text with its performance section replaced; throws if the markers are missing. */
export function replaceReadmeSection(readme: string, run: BenchRun): string {
  const a = readme.indexOf('<!-- bench:begin'), b = readme.indexOf(README_END);
  if (a < 0 || b < a) throw new Error(`the README has no ${README_BEGIN} ... ${README_END} section`);
  return `${readme.slice(0, a)}${README_BEGIN}\n${readmeTable(run)}\n${readme.slice(b)}`;
}

export interface Comparison { key: string; metric: string; old: number; now: number; ratio: number; drop: boolean }

/** Each result present in both runs, its primary figure now / before; a drop is ratio < 1 - threshold. */
export function compareRuns(old: BenchRun, now: BenchRun, threshold: number): Comparison[] {
  const before = new Map(old.results.map((r) => [resultKey(r), r]));
  const out: Comparison[] = [];
  for (const r of now.results) {
    const o = before.get(resultKey(r));
    const metric = PRIMARY[r.suite];
    if (!o || o.metrics[metric] === undefined || r.metrics[metric] === undefined) continue;
    const ratio = r.metrics[metric] / o.metrics[metric];
    out.push({ key: resultKey(r), metric, old: o.metrics[metric], now: r.metrics[metric], ratio, drop: ratio < 1 - threshold });
  }
  return out;
}

export function formatComparison(c: Comparison[], threshold: number): string {
  const rows = c.map((x) => [x.key.replace(/\|/g, ' '), x.metric, x.old.toFixed(2), x.now.toFixed(2), x.ratio.toFixed(3), x.drop ? `DROP > ${(threshold * 100).toFixed(0)}%` : '']);
  const drops = c.filter((x) => x.drop).length;
  return [...markdownTable(['result', 'metric', 'old', 'new', 'new/old', ''], rows), '', `${c.length} results compared, ${drops} dropped more than ${(threshold * 100).toFixed(0)}%`].join('\n');
}
