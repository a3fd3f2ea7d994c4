// Per-call cost of the two ways to bound a chat template: the interpreter budget the library uses
// (src/model/chat-template.ts) and a terminable worker thread (one per call, or one kept alive and
// restarted after a timeout), next to @huggingface/jinja unbounded. Node only (worker_threads).
//   node bench/chat-template.mjs [calls]
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { Template } from '@huggingface/jinja';
import { mkdtempSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';

const calls = Number(process.argv[2] ?? 300);
const dir = mkdtempSync(join(tmpdir(), 'bench-template-'));
await build({ entryPoints: ['src/model/chat-template.ts'], bundle: true, format: 'esm', platform: 'node', outfile: join(dir, 'ct.mjs'), logLevel: 'silent' });
const { renderChatTemplate } = await import(join(dir, 'ct.mjs'));

const LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
const ctx = { messages: Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message number ${i}` })), add_generation_prompt: true, bos_token: '<s>', eos_token: '</s>' };
const WORKER = `const { parentPort } = require('node:worker_threads'); const { Template } = require(${JSON.stringify(join(process.cwd(), 'node_modules/@huggingface/jinja/dist/index.cjs'))});
parentPort.on('message', ({ src, ctx }) => parentPort.postMessage(new Template(src).render(ctx)));`;

const time = async (f) => { for (let i = 0; i < 5; i++) await f(); const t = performance.now(); for (let i = 0; i < calls; i++) await f(); return (performance.now() - t) / calls; };
const viaWorker = (w) => new Promise((res) => { w.once('message', res); w.postMessage({ src: LLAMA3, ctx }); });

const plain = await time(() => new Template(LLAMA3).render(ctx));
const budget = await time(() => renderChatTemplate(LLAMA3, ctx));
const perCall = await time(async () => { const w = new Worker(WORKER, { eval: true }); const r = await viaWorker(w); await w.terminate(); return r; });
const kept = new Worker(WORKER, { eval: true });
const alive = await time(() => viaWorker(kept));
await kept.terminate();
console.log(`${cpus()[0].model}, Node ${process.version}, ${calls} calls each, Llama 3 template, 8 messages (shared machine)`);
console.log('| method | ms per call | vs unbounded |');
console.log('|---|---:|---:|');
for (const [k, v] of [['@huggingface/jinja unbounded', plain], ['interpreter budget (the library)', budget], ['worker per call', perCall], ['kept-alive worker, message round trip', alive]]) {
  console.log(`| ${k} | ${v.toFixed(3)} | ${(v / plain).toFixed(2)}x |`);
}
