// Chat templates are code from the model file: real ones render exactly as @huggingface/jinja renders
// them, and hostile ones end with a BitnetError while the process lives (bombs run in a child process:
// before the budget, range(10**9) aborted Node with a V8 fatal error).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Template } from '@huggingface/jinja';
import { describe, expect, it } from 'vitest';
import { renderChatTemplate } from '../../src/model/chat-template.js';
import { parseGGUFHeader, toByteSource } from '../../src/gguf/index.js';
import { BitnetError } from '../../src/errors.js';

// Llama 3 Instruct (meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json; llama.cpp's
// tests/test-chat-template.cpp carries it with the expected output used below).
const LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
// microsoft/bitnet-b1.58-2B-4T tokenizer_config.json.
const BITNET_2B4T = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";
// tiiuae/Falcon3-*-Instruct tokenizer_config.json (without tools).
const FALCON3 = "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + '\n' }}{% elif message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '\n' }}{% elif message['role'] == 'assistant' %}{% if not loop.last %}{{ '<|assistant|>\n' + message['content'] + eos_token + '\n' }}{% else %}{{ '<|assistant|>\n' + message['content'] + eos_token }}{% endif %}{% endif %}{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}{% endfor %}";

// llama.cpp's conversation for its template tests.
const CHAT = [
  { role: 'system', content: 'You are a helpful assistant' }, { role: 'user', content: 'Hello' },
  { role: 'assistant', content: 'Hi there' }, { role: 'user', content: 'Who are you' },
  { role: 'assistant', content: '   I am an assistant   ' }, { role: 'user', content: 'Another question' },
];
const ctx = (bos: string, eos: string) => ({ messages: CHAT, add_generation_prompt: true, bos_token: bos, eos_token: eos });

async function shippedTemplate(): Promise<string | undefined> {
  const h = await parseGGUFHeader(toByteSource(new Uint8Array(readFileSync('models/default.gguf'))));
  const v = h.metadata.get('tokenizer.chat_template')?.value;
  return typeof v === 'string' ? v : undefined;
}

describe('chat templates: real ones render as before', () => {
  it('Llama 3 gives llama.cpp\'s expected text', () => {
    expect(renderChatTemplate(LLAMA3, ctx('', ''))).toBe('<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
  });

  it('Llama 3, BitNet 2B4T, Falcon3 and the shipped model\'s template give what @huggingface/jinja gives unbounded', async () => {
    const shipped = await shippedTemplate();
    const cases: [string, string, string, string][] = [
      ['llama3', LLAMA3, '<|begin_of_text|>', '<|eot_id|>'], ['bitnet-2b4t', BITNET_2B4T, '<|begin_of_text|>', '<|eot_id|>'],
      ['falcon3', FALCON3, '', '<|endoftext|>'],
    ];
    if (shipped) cases.push(['models/default.gguf', shipped, '<|begin_of_text|>', '<|eot_id|>']);
    for (const [name, src, bos, eos] of cases) {
      const want = new Template(src).render(ctx(bos, eos));
      expect(want.length, name).toBeGreaterThan(50);
      expect(renderChatTemplate(src, ctx(bos, eos)), name).toBe(want);
    }
    expect(renderChatTemplate(BITNET_2B4T, ctx('<s>', ''))).toBe('<s>System: You are a helpful assistant<|eot_id|>User: Hello<|eot_id|>Assistant: Hi there<|eot_id|>User: Who are you<|eot_id|>Assistant: I am an assistant<|eot_id|>User: Another question<|eot_id|>Assistant: ');
  });

  it('globals work as in Template.render: range, raise_exception, namespace, strftime_now', () => {
    expect(renderChatTemplate('{% for i in range(1, 10, 3) %}{{ i }},{% endfor %}{{ range(3)|length }}', {})).toBe('1,4,7,3');
    expect(renderChatTemplate('{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}', { messages: CHAT })).toBe('6');
    expect(renderChatTemplate("{{ strftime_now('%Y') }}", {})).toBe(String(new Date().getFullYear()));
    const widths = '{{ messages|tojson(indent=2) }}{{ "a\nb"|indent(4) }}';
    expect(renderChatTemplate(widths, { messages: CHAT })).toBe(new Template(widths).render({ messages: CHAT }));
    expect(() => renderChatTemplate("{{ raise_exception('roles must alternate') }}", {})).toThrow(/chat template failed: roles must alternate/);
  });

  it('a long real conversation stays within the budget (1,000 messages, 1 MB of content)', () => {
    const messages = Array.from({ length: 1000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(100) }));
    const c = { messages, add_generation_prompt: true, bos_token: '<s>', eos_token: '</s>' };
    expect(renderChatTemplate(LLAMA3, c)).toBe(new Template(LLAMA3).render(c));
  });
});

// Each bomb runs in its own child process with the bundled module: the child prints the error and
// its time; a crash shows as a signal or exit code, a hang as the timeout.
const BOMBS: Record<string, { src: string; error: RegExp }> = {
  'range(10**9)': { src: '{% for i in range(10**9) %}x{% endfor %}', error: /range\(\) of 1000000000 elements/ },
  'nested loops of 10^8': { src: '{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}', error: /more than \d+ (steps|ms)/ },
  '100,000 spaces': { src: ' '.repeat(100_000), error: /whitespace runs too long/ },
  '60 MiB template': { src: 'x'.repeat(60 << 20), error: /62914560 characters/ },
  'array doubling': { src: '{% set ns = namespace(a=[1]) %}{% for i in range(60) %}{% set ns.a = ns.a + ns.a %}{% endfor %}', error: /an array of \d+ elements/ },
  'string doubling': { src: '{% set ns = namespace(s="x") %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}', error: /a string of \d+ characters/ },
  'unbounded recursion': { src: '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}', error: /chat template (failed|exceeds)/ },
  'indent(10**8)': { src: "{{ messages[0].content|indent(10**8) }}", error: /indent\(\) with a width of 100000000/ },
  'tojson(indent=10**8)': { src: '{{ messages|tojson(indent=10**8) }}', error: /tojson\(\) with a width of 100000000/ },
  '100,000 nested parentheses': { src: '{{ ' + '('.repeat(100_000) + '1' + ')'.repeat(100_000) + ' }}', error: /chat template failed/ },
};

describe('chat templates: bombs end within 1 s with a BitnetError, the process alive', () => {
  it('every bomb', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bitnet-bombs-'));
    const bundle = join(dir, 'chat-template.mjs');
    await build({ entryPoints: ['src/model/chat-template.ts'], bundle: true, format: 'esm', platform: 'node', outfile: bundle, logLevel: 'silent' });
    for (const [name, { src, error }] of Object.entries(BOMBS)) {
      const file = join(dir, 'template.txt');
      writeFileSync(file, src);
      const script = `import { renderChatTemplate } from ${JSON.stringify(bundle)}; import { readFileSync } from 'node:fs';
        const src = readFileSync(${JSON.stringify(file)}, 'utf8'); const t = performance.now();
        try { renderChatTemplate(src, { messages: [{ role: 'user', content: 'hi' }], add_generation_prompt: true }); console.log(JSON.stringify({ ok: true })); }
        catch (e) { console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message, ms: performance.now() - t })); }`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
      expect(r.signal, `${name}: ${r.stderr}`).toBeNull();
      expect(r.status, `${name}: ${r.stderr.slice(0, 500)}`).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out.name, name).toBe('BitnetError');
      expect(out.code, name).toBe('BAD_ARGUMENT');
      expect(out.message, name).toMatch(error);
      console.log(`bomb ${name}: ${out.ms.toFixed(0)} ms: ${out.message.slice(0, 100)}`);
    }
  }, 300_000);

  it('limits are enforced in-process too (BitnetError, not a plain error)', () => {
    for (const [name, { src, error }] of Object.entries(BOMBS)) {
      if (src.length > 1 << 20 || name.includes('recursion')) continue;
      let err: unknown;
      try { renderChatTemplate(src, { messages: [{ role: 'user', content: 'hi' }] }); } catch (e) { err = e; }
      expect(err, name).toBeInstanceOf(BitnetError);
      expect((err as Error).message, name).toMatch(error);
    }
  });
});
