// The benchmark suite in quick mode: every suite produces results of the right shape (finite,
// positive figures under the names the report reads), and the report, README table, CSV and
// comparison are built from them. Sizes of the figures are not checked (no timing asserts).
import { describe, expect, it } from 'vitest';
import { KERNEL_IDS, KERNEL_NAMES } from '../bindings/exports.js';
import { formatCsv, formatMarkdown } from '../src/bench/format.js';
import { compareRuns, htmlReport, readmeTable, replaceReadmeSection } from '../src/bench/report.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clockStep } from '../src/bench/measure.js';
import { presetModels } from '../src/bench/models.js';
import { MODEL_SHAPES } from '../src/bench/kernels.js';
import * as benchData from '../bench/data.mjs';
import { headlines } from '../src/bench/report.js';
import { mergeRuns, peerThreads, runBench } from '../src/bench/run.js';
import { notRunNote, runSoFar, runWithRuntimes } from '../src/bench/runtimes.js';
import { saveReport } from '../src/cli/bench.js';
import { processTable } from './runtimes/children.mjs';
import { PRIMARY, resultKey, SUITES, type BenchRun } from '../src/bench/types.js';
import { main, DEFAULT_MODEL } from '../src/cli/main.js';
import { createRuntime } from '../src/init.js';

let run: BenchRun;
const quickRun = async () => (run ??= await runBench({
  suites: [...SUITES], models: [{ file: DEFAULT_MODEL, name: 'default' }], prompts: [16], gens: [4], threads: [1, 2], repetitions: 1,
  quick: true, peers: false, command: 'test', packageName: 'bitnet-wasm test',
}));

describe('bench scripts', () => {
  it("share the kernel suite's model shapes (bench/data.mjs, for the scripts on dist/) and one trit generator", () => {
    expect(benchData.MODEL_SHAPES).toEqual(MODEL_SHAPES);
    const t = benchData.trits(3000, 7);
    expect(new Set(t)).toEqual(new Set([-1, 0, 1]));
    expect(benchData.trits(3000, 7)).toEqual(t);
  });
});

describe('bench suite (quick)', () => {
  it('every suite gives finite positive primary figures, one result per key', async () => {
    const r = await quickRun();
    for (const s of ['probe', ...SUITES] as const) {
      const rs = r.results.filter((x) => x.suite === s);
      expect(rs.length, s).toBeGreaterThan(0);
      for (const x of rs.filter((x) => x.test !== 'load' || s === 'load')) {
        expect(Number.isFinite(x.metrics[PRIMARY[s]]) && x.metrics[PRIMARY[s]] > 0, `${s} ${x.test} ${PRIMARY[s]}`).toBe(true);
      }
    }
    expect(new Set(r.results.map(resultKey)).size).toBe(r.results.length);
    expect(r.env.cores).toBeGreaterThan(0);
    expect(r.results.filter((x) => x.suite !== 'e2e').every((x) => x.threads === 1)).toBe(true);
  });

  it('-t: every thread count has e2e results or a line saying why it was skipped', async () => {
    const r = await quickRun();
    for (const build of r.env.builds) {
      for (const t of [1, 2]) {
        const has = r.results.some((x) => x.suite === 'e2e' && x.build === build && x.threads === t && x.test === 'tg4');
        const skipped = r.notes.some((n) => n.startsWith(`bitnet-wasm ${r.env.runtime} ${build} -t ${t}: skipped`));
        expect(has !== skipped, `${build} -t ${t}`).toBe(true);
      }
      expect(r.results.some((x) => x.suite === 'e2e' && x.build === build && x.threads === 1)).toBe(true);
    }
  });

  it('timings batch calls to 100 clock steps; the step is measured', async () => {
    expect(clockStep()).toBeGreaterThan(0);
    expect(Number.isFinite(clockStep())).toBe(true);
    const r = await quickRun();
    expect(r.results.filter((x) => x.suite === 'kernels').every((x) => Number(x.params.callsPerSample) >= 1)).toBe(true);
  });

  it('headline ratios divide the figures they name; runs of several runtimes merge', async () => {
    const r = await quickRun();
    const h = headlines(r);
    for (const build of r.env.builds) {
      const f32 = r.results.find((x) => x.suite === 'kernels' && x.build === build && x.kernel === 'dense-f32' && x.params.n === 1 && x.params.mode === 'hot')!;
      const line = h.find((l) => l.includes(`${r.env.runtime} ${build}:`))!;
      const [, kernel, gops] = /: (\S+) ([\d.]+) GOPS/.exec(line)!;
      const top = r.results.find((x) => x.suite === 'kernels' && x.build === build && x.kernel === kernel && x.params.shape === f32.params.shape && x.params.n === 1 && x.params.mode === 'hot')!;
      expect(gops).toBe(top.metrics.gops.toFixed(1));
      expect(line).toContain(`= ${(top.metrics.gops / f32.metrics.gops).toFixed(2)}x dense f32`);
    }
    expect(h.some((l) => l.startsWith('default, decode\'s weight traffic'))).toBe(true);
    const other = { ...r, env: { ...r.env, runtime: 'other 1' }, results: r.results.map((x) => ({ ...x, runtime: 'other 1' })), notes: ['n'] };
    const m = mergeRuns({ runs: [r, other], notes: ['chromium: skipped, x'] });
    expect(m.envs?.map((e) => e.runtime)).toEqual([r.env.runtime, 'other 1']);
    expect(m.results).toHaveLength(2 * r.results.length);
    expect(new Set(m.results.map(resultKey)).size).toBe(m.results.length);
    expect(m.notes).toContain('chromium: skipped, x');
    expect(() => mergeRuns({ runs: [], notes: ['deno: skipped, y'] })).toThrow(/deno: skipped, y/);
  });

  it('--presets files are written once and reused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-models-'));
    const lines: string[] = [];
    const [m] = await presetModels(['tiny'], ['TQ1_0'], dir, (l) => lines.push(l));
    expect(m).toMatchObject({ name: 'tiny-TQ1_0', type: 'TQ1_0', file: join(dir, 'tiny-TQ1_0.gguf') });
    const t = statSync(m.file as string).mtimeMs;
    await presetModels(['tiny'], ['TQ1_0'], dir, (l) => lines.push(l));
    expect(lines).toHaveLength(1);
    expect(statSync(m.file as string).mtimeMs).toBe(t);
  });

  it('kernels: every ternary kernel and both dense baselines, GEMV and GEMM, hot and streamed, ratios to f32', async () => {
    const r = await quickRun();
    const k = r.results.filter((x) => x.suite === 'kernels');
    for (const build of r.env.builds) {
      const rt = await createRuntime({ build: build as 'simd128' | 'relaxed' });
      const ternary = KERNEL_NAMES.filter((n) => n !== 'scalar' && rt.exports.kernel_available(KERNEL_IDS[n]) === 1);
      for (const kernel of [...ternary, 'dense-f32', 'dense-i8']) {
        const rows = k.filter((x) => x.build === build && x.kernel === kernel);
        expect(rows.some((x) => x.params.mode === 'hot' && x.params.n === 1), `${build}/${kernel} gemv`).toBe(true);
        expect(rows.some((x) => x.params.mode === 'streamed'), `${build}/${kernel} streamed`).toBe(true);
        if (!kernel.startsWith('dense')) expect(rows.some((x) => Number(x.params.n) > 1), `${build}/${kernel} gemm`).toBe(true);
        for (const x of rows) {
          expect(x.metrics.weightGBs).toBeGreaterThan(0);
          expect(x.metrics.overF32).toBeGreaterThan(0);
          if (x.params.mode === 'streamed') expect(x.metrics.bandwidthFraction).toBeGreaterThan(0);
        }
      }
      expect(k.filter((x) => x.build === build && x.kernel === 'dense-f32').every((x) => x.metrics.overF32 === 1)).toBe(true);
    }
    const tg = r.results.find((x) => x.suite === 'e2e' && x.test === 'tg4')!;
    expect(tg.metrics.bandwidthFraction).toBeGreaterThan(0);
  });

  it('md, csv, html and the README table are drawn from the run', async () => {
    const r = await quickRun();
    const md = formatMarkdown(r);
    for (const s of SUITES) expect(md).toContain(`### ${s}`);
    expect(formatCsv(r).split('\n')).toHaveLength(r.results.length + 1);
    const html = htmlReport(r);
    expect(html.match(/<svg /g)?.length).toBe(5);
    const tl3 = r.results.find((x) => x.suite === 'kernels' && x.params.n === 1 && x.params.mode === 'hot')!;
    expect(readmeTable(r)).toContain(tl3.metrics.gops.toFixed(1));
    const readme = 'a\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nb\n';
    const out = replaceReadmeSection(readme, r);
    expect(out).not.toContain('old');
    expect(out.startsWith('a\n<!-- bench:begin') && out.endsWith('<!-- bench:end -->\nb\n')).toBe(true);
    expect(() => replaceReadmeSection('no markers', r)).toThrow(/bench:begin/);
  });

  it('--compare: ratios of the primary figures, drops over the threshold flagged', async () => {
    const r = await quickRun();
    expect(compareRuns(r, r, 0.1).every((c) => c.ratio === 1 && !c.drop)).toBe(true);
    const faster = { ...r, results: r.results.map((x) => ({ ...x, metrics: { ...x.metrics, [PRIMARY[x.suite]]: x.metrics[PRIMARY[x.suite]] * 2 } })) };
    const c = compareRuns(faster, r, 0.1);
    expect(c.length).toBe(r.results.filter((x) => x.metrics[PRIMARY[x.suite]] !== undefined).length);
    expect(c.every((x) => x.drop && Math.abs(x.ratio - 0.5) < 1e-12)).toBe(true);
  });

  it('the CLI runs a suite and prints JSON; list options and bad combinations are usage errors', async () => {
    const out: string[] = [], err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), write: (t: string) => out.push(t) };
    expect(await main(['bench', '--suite', 'attention', '--quick', '-o', 'json'], io)).toBe(0);
    const j = JSON.parse(out.join('\n')) as BenchRun;
    expect(j.schema).toBe(1);
    expect(j.results.some((x) => x.suite === 'attention')).toBe(true);
    expect(await main(['bench', '--quick'], io)).toBe(2);
    expect(err.at(-1)).toMatch(/--quick needs --suite/);
    expect(await main(['bench', '-p', '1,x'], io)).toBe(2);
    expect(err.at(-1)).toMatch(/integers separated by commas/);
    expect(await main(['bench', '--suite', 'attention', '--runtime', 'node,bogus'], io)).toBe(2);
    expect(err.at(-1)).toMatch(/--runtime must be one of node, deno, bun, chromium, firefox, workerd, all, got "bogus"/);
    expect(await main(['bench', '--suite', 'e2e', '--presets', 'tiny', '-m', 'x.gguf'], io)).toBe(2);
    // Without --suite, -t is a list too (a row per count: test/cli.test.ts); one count was refused by init.
    out.length = 0;
    expect(await main(['bench', '-t', '1', '-p', '4', '-n', '2'], io), err.join('\n')).toBe(0);
    expect(out.filter((l) => l.startsWith('| default |')).map((l) => l.split('|')[4].trim())).toEqual(['1']);
    out.length = 0;
    expect(await main(['bench', '--suite', 'attention', '--quick', '--runtime', 'node', '-o', 'json'], io)).toBe(0);
    const one = JSON.parse(out.join('\n')) as BenchRun;
    expect(one.envs).toHaveLength(1);
    expect(one.results.every((x) => x.runtime.startsWith('node '))).toBe(true);
  });
});

describe('peers', () => {
  it('peers run at one thread list: 1 and each -t, every core too in full mode', () => {
    expect(peerThreads(undefined, 8, true)).toEqual([1]);
    expect(peerThreads([4, 2], 8, true)).toEqual([1, 2, 4]);
    expect(peerThreads(undefined, 8, false)).toEqual([1, 8]);
    expect(peerThreads([2, 1, 2], 8, false)).toEqual([1, 2, 8]);
    expect(peerThreads([8], 8, false)).toEqual([1, 8]);
  });
});

describe('bench --runtime: a long run is never lost', () => {
  const renamed = (r: BenchRun, rt: string): BenchRun => ({ ...r, env: { ...r.env, runtime: rt }, results: r.results.map((x) => ({ ...x, runtime: rt })), notes: [`${rt.split(' ')[0]} note`] });

  it('each runtime is saved as it finishes; a stopped run keeps them, the others are notes; --resume runs only the rest', async () => {
    const r = await quickRun();
    const dir = mkdtempSync(join(tmpdir(), 'bench-partial-'));
    const names = ['node', 'deno', 'bun', 'chromium', 'firefox'];
    const calls: string[] = [];
    let onDisk: BenchRun | undefined;
    const hosts = {
      benchIn: async (name: string) => {
        calls.push(name);
        if (name === 'bun') throw new Error('no bun here\nat stack');
        // What a run killed now leaves behind: the file of the runtimes that finished.
        if (name === 'firefox') { onDisk = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')); return { skipped: 'stopped in this test' }; }
        return { run: renamed(r, `${name} 1.0`), notes: [`${name}: extra note`] };
      },
    };
    const options = { suites: ['load' as const], models: [{ file: join(dir, 'missing.gguf'), name: 'missing' }], prompts: [1], gens: [1], repetitions: 1, quick: true, peers: false, command: 'cmd', packageName: 'p' };
    const first = await runWithRuntimes(names, 'node', options, [], () => {}, { hosts, save: (run) => saveReport(dir, run) });
    expect(calls).toEqual(['deno', 'bun', 'chromium', 'firefox']);
    // The in-process runtime failed (no such file): a note, the others still ran.
    expect(first.notes.find((n) => n.startsWith('node: failed'))).toMatch(/ENOENT/);
    expect(readdirSync(dir).sort()).toEqual(['index.html', 'run.json']); // no temp file left
    const partial = onDisk!;
    expect(partial.command).toBe('cmd');
    expect(partial.envs!.map((e) => e.runtime)).toEqual(['deno 1.0', 'chromium 1.0']);
    expect(partial.results).toHaveLength(2 * r.results.length);
    expect(partial.results.every((x) => x.runtime === 'deno 1.0' || x.runtime === 'chromium 1.0')).toBe(true);
    expect(partial.notes).toEqual(expect.arrayContaining([notRunNote('firefox'), 'bun: failed, no bun here', 'deno: extra note', 'chromium note']));
    expect(partial.notes.filter((n) => n.includes('not run'))).toEqual(['firefox: not run (the run stopped before it)']);

    // The report from the partial file: missing runtimes are notes, never rows of zeros.
    const file = join(dir, 'partial.json'), readme = join(dir, 'README.md'), out = join(dir, 'report');
    writeFileSync(file, JSON.stringify(partial));
    writeFileSync(readme, '<!-- bench:begin -->\n<!-- bench:end -->\n');
    const io = { out: () => {}, err: () => {}, write: () => {} };
    expect(await main(['bench', '--from', file, '--report', out, '--readme', readme], io)).toBe(0);
    const table = readFileSync(readme, 'utf8'), html = readFileSync(join(out, 'index.html'), 'utf8');
    for (const n of ['node: failed, ENOENT', 'bun: failed, no bun here', notRunNote('firefox')]) {
      expect(table).toContain(`- ${n.split(',')[0]}`);
      expect(html).toContain(n.split(',')[0]);
    }
    expect(table.split('\n').filter((l) => /firefox|bun/.test(l) && !l.startsWith('- '))).toEqual([]);
    expect(html).toContain('Runtimes not in this run');

    // --resume: deno and chromium are kept; bun (failed) and firefox (not run) run again, node too.
    calls.length = 0;
    const again = await runWithRuntimes(names, 'node', options, [], () => {}, { hosts, resume: partial });
    expect(calls).toEqual(['bun', 'firefox']);
    const merged = runSoFar(again, [], 'cmd')!;
    expect(merged.envs!.map((e) => e.runtime)).toEqual(['deno 1.0', 'chromium 1.0']);
    expect(merged.notes.filter((n) => n.startsWith('bun:'))).toEqual(['bun: failed, no bun here']);
    expect(merged.notes.some((n) => n.includes('not run'))).toBe(false);
    expect(merged.notes).toContain('firefox: skipped, stopped in this test');
  });

  it('--resume: needs --runtime and --report; refuses the saved run of another command', async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l), write: () => {} };
    expect(await main(['bench', '--suite', 'attention', '--resume', '--runtime', 'node'], io)).toBe(2);
    expect(err.at(-1)).toMatch(/--resume needs --runtime and --report DIR/);
    const dir = mkdtempSync(join(tmpdir(), 'bench-resume-'));
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...(await quickRun()), command: 'bitnet-wasm bench --suite kernels' }));
    expect(await main(['bench', '--suite', 'attention', '--quick', '--runtime', 'node', '--report', dir, '--resume'], io)).toBe(1);
    expect(err.at(-1)).toMatch(/--resume: .*run\.json is a run of `bitnet-wasm bench --suite kernels`, not of this command/);
  });
});

describe('runtime runner: an interrupted runner leaves no child behind (children.mjs)', () => {
  const CHILDREN = new URL('./runtimes/children.mjs', import.meta.url).href;
  const alive = (pgid: number) => (processTable() as { pgid: number; state: string }[]).filter((p) => p.pgid === pgid && p.state !== 'Z');
  const until = async (ok: () => boolean, ms: number) => { for (const t0 = Date.now(); !ok() && Date.now() - t0 < ms;) await new Promise((r) => setTimeout(r, 50)); return ok(); };

  for (const how of ['SIGINT', 'SIGTERM', 'exception'] as const) {
    it(`${how}: the runner's process groups (a shell and its two sleeps) are ended`, async () => {
      const script = join(mkdtempSync(join(tmpdir(), 'bench-kill-')), 'runner.mjs');
      writeFileSync(script, `import { spawnGroup } from ${JSON.stringify(CHILDREN)};
const c = spawnGroup('sh', ['-c', 'sleep 60 & sleep 60 & wait']);
process.stdout.write(c.pid + '\\n');
setInterval(() => {}, 1000);
process.stdin.on('data', () => { throw new Error('boom'); });
`);
      const runner = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'ignore'] });
      const exited = new Promise<[number | null, string | null]>((ok) => runner.on('exit', (c, s) => ok([c, s])));
      const pgid = await new Promise<number>((ok) => runner.stdout.once('data', (d) => ok(Number(String(d).trim()))));
      expect(await until(() => alive(pgid).length === 3, 10000)).toBe(true);
      if (how === 'exception') runner.stdin.write('x\n'); else runner.kill(how);
      const [code, signal] = await exited;
      expect(how === 'exception' ? code : signal).toBe(how === 'exception' ? 1 : how);
      expect(await until(() => alive(pgid).length === 0, 5000), `left: ${JSON.stringify(alive(pgid))}`).toBe(true);
    });
  }
});
