// The shipped model's chat template (tools/train/template.ts, added by tools/train/chat-template.ts)
// and the README's "Use" snippet run as written against the shipped model.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/model/model.js';
import { defaultModelUrl } from '../../src/default-model.js';

const MODEL = 'models/default.gguf';
let model: Model;

beforeAll(async () => { model = await loadModel(MODEL); });
afterAll(() => model?.dispose());

describe('default model chat', () => {
  it('renders plain-text turns (system paragraph, User:, Assistant:)', () => {
    const prompt = model.applyChatTemplate([
      { role: 'system', content: ' You are a newspaper. ' },
      { role: 'user', content: 'What did the jury say?' },
      { role: 'assistant', content: 'It said nothing.' },
      { role: 'user', content: 'Why?' },
    ]);
    expect(prompt).toBe('You are a newspaper.\n\nUser: What did the jury say?\nAssistant: It said nothing.\nUser: Why?\nAssistant:');
  });

  it('chat() generates from the rendered prompt (same greedy tokens as generate on it)', async () => {
    const messages = [{ role: 'user', content: 'What did the jury say?' }];
    const chat = await model.chat(messages, { maxTokens: 12 });
    const direct = await model.generate('User: What did the jury say?\nAssistant:', { maxTokens: 12, addBos: false, parseSpecial: true });
    expect(chat.text.length).toBeGreaterThan(0);
    expect(chat.text).toBe(direct.text);
  });
});

describe("README's Use snippet", () => {
  it('runs as written on the shipped model', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /## Use\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    // Its import line names what it uses from the package; nothing else is given to it.
    const imported = /^import \{ ([^}]*) \} from 'bitnet-wasm';\n/m.exec(block!);
    expect(imported?.[1].split(', ').sort()).toEqual(['defaultModelUrl', 'loadModel']);
    const body = block!.replace(imported![0], '');
    const logged: unknown[][] = [];
    const written: string[] = [];
    const free = { loadModel, defaultModelUrl,
      console: { log: (...a: unknown[]) => logged.push(a), warn: () => {} }, process: { stdout: { write: (s: string) => { written.push(s); return true; } } } };
    const run = new Function(...Object.keys(free), `return (async () => {\n${body}\n})();`);
    await run(...Object.values(free));
    expect(logged.some((a) => typeof a[0] === 'string' && a[0].length > 0)).toBe(true); // r.text
    expect(written.join('').length).toBeGreaterThan(0); // the stream
  });
});
