// `bitnet-wasm serve`: its options, and the server it starts (model loaded, port 0 = a free port).
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, main } from '../../src/cli/main.js';
import { startServe } from '../../src/cli/serve.js';

const io = () => { const lines: string[] = []; return { lines, out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), write: (t: string) => lines.push(t) }; };

describe('bitnet-wasm serve', () => {
  it('refuses bad options with one line naming the problem and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--port', 'http'], /--port needs an integer, got "http"/], [['--port', '70000'], /--port must be an integer in \[0, 65535\], got 70000/],
      [['--max-queue', '-1'], /--max-queue must be an integer in \[0, 1048576\], got -1/], [['--bogus'], /unknown option --bogus/],
      [['a.gguf', '-m', 'b.gguf'], /unexpected argument "a\.gguf"/], [['--build', 'fast'], /--build must be one of simd128, relaxed/],
      [['-t', 'abc'], /-t \(--threads\) needs an integer, got "abc"/],
    ];
    for (const [argv, re] of cases) {
      const o = io();
      expect(await main(['serve', ...argv], o)).toBe(2);
      expect(o.lines).toHaveLength(1);
      expect(o.lines[0]).toMatch(new RegExp(`^bitnet-wasm serve: ${re.source}`));
    }
    const h = io();
    expect(await main(['serve', '--help'], h)).toBe(0);
    expect(h.lines[0]).toMatch(/--max-queue N/);
    expect(h.lines[0]).toMatch(/-t, --threads N/);
  });

  it('-t: the model serves on that many threads', async () => {
    const s = await startServe({ model: DEFAULT_MODEL, port: 0, threads: 1 });
    try {
      expect(s.model.threads).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('serves the model on 127.0.0.1 with its file name as the model id', async () => {
    const s = await startServe({ model: DEFAULT_MODEL, port: 0, maxQueue: 3 });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${s.url}/health`)).json()).toEqual({ status: 'ok', model: 'default', contextLength: s.model.contextLength, queue: { running: 0, waiting: 0, limit: 3 },
        served: { completed: 0, cancelled: 0, failed: 0, textPieces: 0, afterCancel: 0 } });
      const j = await (await fetch(`${s.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'The jury said', max_tokens: 10, temperature: 0 }) })).json();
      const ref = await s.model.generate('The jury said', { maxTokens: 10, temperature: 0 });
      expect(j.choices[0].text).toBe(ref.text);
      expect(j.model).toBe('default');
    } finally {
      await s.close();
    }
  });
});
