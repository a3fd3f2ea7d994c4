// The CLI (src/cli/main.ts) against the library it wraps, on the shipped default model.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MODEL, main } from '../src/cli/main.js';
import { loadModel } from '../src/model/model.js';

function capture() {
  let out = '', err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  const e = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err += a.join(' ') + '\n'; });
  const l = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out += a.join(' ') + '\n'; });
  return { get out() { return out; }, get err() { return err; }, restore() { o.mockRestore(); e.mockRestore(); l.mockRestore(); } };
}
afterEach(() => vi.restoreAllMocks());

describe('bitnet-wasm CLI', () => {
  it('logits --json equals model.logits()', async () => {
    const c = capture();
    const code = await main(['logits', DEFAULT_MODEL, '--tokens', '5,17,300', '--json']);
    c.restore();
    expect(code).toBe(0);
    const j = JSON.parse(c.out);
    const m = await loadModel(DEFAULT_MODEL);
    expect(j.tokens).toEqual([5, 17, 300]);
    expect(j.logits).toEqual(Array.from(m.logits([5, 17, 300])));
    m.dispose();
  });

  it('run streams the prompt and its continuation, then the tok/s line; the same seed gives the same text', async () => {
    const runOnce = async () => {
      const c = capture();
      const code = await main(['run', '-p', 'The jury said', '-n', '12', '--seed', '3', '--temp', '0.7']);
      c.restore();
      expect(code).toBe(0);
      return c;
    };
    const a = await runOnce(), b = await runOnce();
    expect(a.out.startsWith('The jury said')).toBe(true);
    expect(a.out.length).toBeGreaterThan('The jury said'.length + 5);
    expect(a.err).toMatch(/generated 12 tokens at [\d.]+ tok\/s/);
    expect(b.out).toBe(a.out);
  });

  it('perplexity prints what model.perplexity computes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const text = 'The committee said that the city would pay for the new school, and the mayor agreed.';
    writeFileSync(join(dir, 't.txt'), text);
    const c = capture();
    expect(await main(['perplexity', DEFAULT_MODEL, join(dir, 't.txt')])).toBe(0);
    c.restore();
    const m = await loadModel(DEFAULT_MODEL);
    const want = m.perplexity(m.tokenize(text)).perplexity;
    m.dispose();
    expect(c.out).toContain(`perplexity ${want.toFixed(4)}`);
  });

  it('bad arguments print usage and return 2', async () => {
    const c = capture();
    expect(await main([])).toBe(2);
    expect(await main(['run'])).toBe(2);
    expect(await main(['frobnicate'])).toBe(2);
    c.restore();
    expect(c.err + c.out).toMatch(/usage: bitnet-wasm/);
  });
});
