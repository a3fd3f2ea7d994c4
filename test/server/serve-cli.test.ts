// `bitnet-wasm serve`: its options, and the server it starts (model loaded, port 0 = a free port).
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL } from '../../src/cli/main.js';
import { serveCommand, startServe } from '../../src/cli/serve.js';

const io = () => { const lines: string[] = []; return { lines, out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) }; };

describe('bitnet-wasm serve', () => {
  it('refuses bad options with usage and exit code 2', async () => {
    for (const argv of [['--port', 'http'], ['--port', '70000'], ['--max-queue', '-1'], ['--bogus'], ['a.gguf', '-m', 'b.gguf'], ['--build', 'fast']]) {
      const o = io();
      expect(await serveCommand(argv, DEFAULT_MODEL, o)).toBe(2);
      expect(o.lines.join('\n')).toMatch(/^serve: .+\n[\s\S]*usage: serve/);
    }
    const h = io();
    expect(await serveCommand(['--help'], DEFAULT_MODEL, h)).toBe(0);
    expect(h.lines[0]).toMatch(/--max-queue N/);
  });

  it('serves the model on 127.0.0.1 with its file name as the model id', async () => {
    const s = await startServe({ model: DEFAULT_MODEL, port: 0, maxQueue: 3 });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${s.url}/health`)).json()).toEqual({ status: 'ok', model: 'default', contextLength: s.model.contextLength, queue: { running: 0, waiting: 0, limit: 3 },
        served: { completed: 0, cancelled: 0, failed: 0, textPieces: 0 } });
      const j = await (await fetch(`${s.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'The jury said', max_tokens: 10, temperature: 0 }) })).json();
      const ref = await s.model.generate('The jury said', { maxTokens: 10, temperature: 0 });
      expect(j.choices[0].text).toBe(ref.text);
      expect(j.model).toBe('default');
    } finally {
      await s.close();
    }
  });
});
