// The CLI (src/cli/main.ts) against the library it wraps, on the shipped default model. Wrong
// command lines are in cli-usage.test.ts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, DEFAULT_MODEL, main } from '../src/cli/main.js';
import { kernelInfo } from '../src/init.js';
import { loadModel, type Model } from '../src/model/model.js';

function capture() {
  const c = { out: '', err: '', io: { out: (l: string) => { c.out += l + '\n'; }, err: (l: string) => { c.err += l + '\n'; }, write: (t: string) => { c.out += t; } } };
  return c;
}
async function cli(...argv: string[]) {
  const c = capture();
  const code = await main(argv, c.io);
  return { code, out: c.out, err: c.err };
}

let model: Model;
beforeAll(async () => { model = await loadModel(DEFAULT_MODEL); });
afterAll(() => model?.dispose());
const dir = mkdtempSync(join(tmpdir(), 'cli-'));
const TEXT = 'The committee said that the city would pay for the new school, and the mayor agreed that it was a fair plan. '.repeat(8);
writeFileSync(join(dir, 't.txt'), TEXT);

describe('bitnet-wasm CLI', () => {
  it('logits --json equals model.logits()', async () => {
    const r = await cli('logits', DEFAULT_MODEL, '--tokens', '5,17,300', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.tokens).toEqual([5, 17, 300]);
    expect(j.logits).toEqual(Array.from(model.logits([5, 17, 300])));
  });

  it("run with no sampling options uses the defaults its --help states (llama.cpp's): the same text as generate() with them", async () => {
    const r = await cli('run', '-p', 'The jury said', '-n', '12');
    expect(r.code).toBe(0);
    const want = await model.generate('The jury said', { maxTokens: 12, temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, penaltyLastN: 64, seed: 0 });
    expect(r.out).toBe(`The jury said${want.text}\n`);
    expect(r.err).toMatch(/generated 12 tokens at [\d.]+ tok\/s; stopped: -n tokens generated/);
    const help = (await cli('run', '--help')).out;
    for (const d of ['temp, --temperature T  temperature; 0 = greedy (default: 0.8)', '(default: 40)', '(default: 0.95)', '(default: 0.05)', '(default: 64)']) expect(help).toContain(d);
  });

  it('run -v says what was chosen at load and why: the calibrated kernels with their timings, the threads, the decode split; the text is the same', async () => {
    const plain = await cli('run', '-p', 'The jury said', '-n', '6', '-s', '2');
    const r = await cli('run', '-p', 'The jury said', '-n', '6', '-s', '2', '-v');
    expect(r.code).toBe(0);
    expect(r.out).toBe(plain.out);
    const info = kernelInfo(), c = info.calibration;
    const lines = r.err.split('\n');
    const line = (re: RegExp) => lines.find((l) => re.test(l)) ?? '';
    if (Object.keys(c.timings).length) {
      expect(line(/kernel calibration/)).toContain(`-> ${c.gemv}`);
      expect(line(/kernel calibration/)).toContain(`; layout ${c.layoutWhy}`);
      for (const [k, t] of Object.entries(c.timings)) if (t.gemvUs !== undefined) expect(line(/kernel calibration/)).toContain(`${k} ${t.gemvUs}`);
    } else expect(line(/one kernel/)).toContain(c.gemv);
    expect(line(/^bitnet-wasm: threads: /)).toContain(info.threadsWhy);
    const m = line(/decode kernel/).match(/decode kernel ([\w-]+)/);
    expect(info.kernels).toContain(m?.[1]);
    expect(line(/decode split:/)).toMatch(/decode split: (none|the default|jobs under \d+ multiply-adds stay on the calling thread) \(.+\); load's measurements [\d.]+ ms/);
    expect(plain.err).not.toMatch(/decode split/);
    // One thread: no workers to describe.
    const one = await cli('run', '-p', 'The jury said', '-n', '6', '-s', '2', '-v', '-t', '1');
    expect(one.err).toMatch(/decode split: none \(one thread\); load's measurements [\d.]+ ms/);
  });

  it('llama.cpp spellings, --flag=value and aliases give the same run as the long forms', async () => {
    const long = await cli('run', '--model', DEFAULT_MODEL, '--prompt', 'The jury said', '--n-predict', '8', '--temp', '0.7', '--seed', '3', '--ctx-size', '64', '--top-k', '20');
    const short = await cli('run', '-m', DEFAULT_MODEL, '-p', 'The jury said', '-n', '8', '--temperature=0.7', '-s', '3', '--ctx=64', '--top-k=20', '-t', '1');
    const positional = await cli('run', DEFAULT_MODEL, '-p', 'The jury said', '-n8', '--temp', '0.7', '-s3', '-c', '64', '--top-k', '20');
    const threaded = await cli('run', '-m', DEFAULT_MODEL, '-p', 'The jury said', '-n', '8', '--temp', '0.7', '-s', '3', '-c', '64', '--top-k', '20', '--threads=3');
    expect(long.code).toBe(0);
    expect(threaded.out).toBe(long.out);
    expect(threaded.err).toMatch(/3 threads/);
    expect(long.out.length).toBeGreaterThan('The jury said'.length + 5);
    expect(short.out).toBe(long.out);
    expect(positional.out).toBe(long.out);
    // -f reads the prompt from a file; --no-display-prompt leaves it out.
    writeFileSync(join(dir, 'p.txt'), 'The jury said');
    const fromFile = await cli('run', '-f', join(dir, 'p.txt'), '-n', '8', '--temp', '0.7', '-s', '3', '-c', '64', '--top-k', '20', '--no-display-prompt');
    expect('The jury said' + fromFile.out).toBe(long.out);
  });

  it("-n -1 runs until the context is full and says so (finishReason 'context')", async () => {
    const r = await cli('run', '-p', 'The jury said', '-n', '-1', '-c', '40', '--temp', '0');
    expect(r.code).toBe(0);
    const want = await loadModel(DEFAULT_MODEL, { contextLength: 40 });
    const g = await want.generate('The jury said', { maxTokens: 1000, temperature: 0 });
    want.dispose();
    expect(g.finishReason).toBe('context');
    expect(r.out).toBe(`The jury said${g.text}\n`);
    expect(r.err).toMatch(/stopped: the context is full \(40 tokens; -c sets it\)/);
  });

  it("perplexity prints llama-perplexity's figure (model.perplexity mode 'llama'); --all-tokens the every-token one", async () => {
    const r = await cli('perplexity', DEFAULT_MODEL, join(dir, 't.txt'), '-c', '64');
    expect(r.code).toBe(0);
    const m = await loadModel(DEFAULT_MODEL, { contextLength: 64 });
    const ids = m.tokenize(TEXT);
    const llama = m.perplexity(ids, { mode: 'llama', window: 64 });
    const all = m.perplexity(ids, { mode: 'all', window: 64 });
    m.dispose();
    expect(r.out).toBe(`${llama.windows.map((p, i) => `[${i + 1}]${p.toFixed(4)}`).join(',')}\nFinal estimate: PPL = ${llama.perplexity.toFixed(4)} +/- ${llama.uncertainty.toFixed(5)}\n`);
    expect(r.err).toMatch(new RegExp(`${ids.length} tokens, windows of 64: ${Math.floor(ids.length / 64)}, ${llama.count} scored`));
    const a = await cli('perplexity', '-m', DEFAULT_MODEL, '-f', join(dir, 't.txt'), '-c', '64', '--all-tokens');
    expect(a.out).toContain(`Final estimate: PPL = ${all.perplexity.toFixed(4)} +/- `);
    expect(llama.perplexity).not.toBe(all.perplexity);
  });

  it('every command has --help with each option of its table and its default; --version is the package version', async () => {
    for (const [name, cmd] of Object.entries(COMMANDS)) {
      const r = await cli(name, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: bitnet-wasm ${name} `));
      for (const o of cmd.spec.options) {
        const line = r.out.split('options:')[1].split('\n').find((l) => l.includes(`--${o.name}`));
        expect(line, `${name} --${o.name}`).toBeDefined();
        if (o.short) expect(line).toContain(`-${o.short}, --${o.name}`);
        const dflt = o.defaultText ?? (o.default !== undefined && o.kind !== 'flag' ? String(o.default) : undefined);
        if (dflt !== undefined) expect(r.out.replace(/\n\s+/g, ' '), `${name} --${o.name} default`).toContain(`(default: ${dflt})`);
      }
      expect((await cli('help', name)).out).toBe(r.out);
    }
    const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
    expect((await cli('--version')).out).toBe(`bitnet-wasm ${version}\n`);
    expect((await cli('run', '--version')).out).toBe(`bitnet-wasm ${version}\n`);
    const top = await cli('--help');
    for (const name of Object.keys(COMMANDS)) expect(top.out).toContain(`  ${name} `);
  });

  it('bench prints a llama-bench style table', async () => {
    const r = await cli('bench', '-p', '16', '-n', '4');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\| model \| build \| kernel \| threads \| pp16 tok\/s \| tg4 tok\/s \|\n\| --- .*\n\| default \| (simd128|relaxed) \| \S+ \| \d+ \| [\d.]+ \| [\d.]+ \|\n$/);
  });

});
