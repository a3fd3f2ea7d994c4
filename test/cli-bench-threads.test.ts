// `bitnet-wasm bench -t 1,2` in a file of its own: a runtime's first init decides whether it has workers at
// all, so this must be the first init of its module graph (vitest isolates each file).
import { expect, it } from 'vitest';
import { main } from '../src/cli/main.js';

it('bench -t 1,2: a row per thread count, each model on its count (llama-bench)', async () => {
  const out: string[] = [], err: string[] = [];
  const code = await main(['bench', '-t', '1,2', '-p', '4', '-n', '2'], { out: (l) => out.push(l), err: (l) => err.push(l), write: (t) => out.push(t) });
  expect(code, err.join('\n')).toBe(0);
  const rows = out.filter((l) => l.startsWith('| default |')).map((l) => l.split('|').map((c) => c.trim()));
  expect(rows.map((c) => c[4])).toEqual(['1', '2']);
});
