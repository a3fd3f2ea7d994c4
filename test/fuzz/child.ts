// One fuzz input, in its own process: load -> tokenize -> generate -> logits -> chat template.
// Prints one JSON line: { outcome: 'ok' | 'bitnet' | 'plain' | 'nonfinite', code?, message? }.
// A crash (no line, non-zero exit) or a hang (killed at the timeout) is classified by the parent.
import { readFileSync } from 'node:fs';
import { BitnetError, init, loadModel } from '../../src/index.js';

const [file, wasm] = process.argv.slice(2);
const report = (r: object) => process.stdout.write(`${JSON.stringify(r)}\n`);

async function main(): Promise<void> {
  await init({ build: 'simd128', bytes: readFileSync(wasm) });
  const model = await loadModel(new Uint8Array(readFileSync(file)), { contextLength: 48, batchSize: 8 });
  try {
    const ids = model.tokenize('Once upon a time, 123 “quotes” 😀');
    const r = await model.generate(ids.length ? ids : [0], { maxTokens: 6, temperature: 0.9, topK: 20, seed: 3 });
    const logits = model.logits(ids.length ? ids : [0]);
    if (!logits.every(Number.isFinite)) return report({ outcome: 'nonfinite', message: 'logits() returned a NaN or an infinity' });
    model.detokenize(r.tokens);
    try { model.applyChatTemplate([{ role: 'user', content: 'Hi' }]); } catch (e) { if (!(e instanceof BitnetError)) throw e; }
    report({ outcome: 'ok' });
  } finally {
    model.dispose();
  }
}

main().catch((e: unknown) => {
  if (e instanceof BitnetError) report({ outcome: 'bitnet', code: e.code, message: e.message.slice(0, 300), offset: e.offset });
  else report({ outcome: 'plain', message: String((e as Error)?.stack ?? e).slice(0, 2000) });
});
