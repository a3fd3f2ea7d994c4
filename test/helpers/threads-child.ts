// A process that uses threads and then ends them (test/threads.test.ts runs it bundled): it must
// exit by itself, with no handle left open. argv[2]: 'dispose' ends them with dispose(); 'forget'
// leaves them running (the workers are unref'd, so the process still exits).
import { dispose, init, kernelInfo, loadModel } from '../../src/index.js';
import { makeModel } from '../../src/synth/make-model.js';

const info = await init({ threads: 2 });
const model = await loadModel(await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 5 }));
const r = await model.generate('The jury said', { maxTokens: 8, temperature: 0 });
console.log(JSON.stringify({ threads: info.threads, modelThreads: model.threads, tokens: r.tokens.length }));
if (process.argv[2] === 'dispose') {
  model.dispose();
  await dispose();
  let code = '';
  try { kernelInfo(); } catch (e) { code = (e as { code: string }).code; }
  console.log(JSON.stringify({ afterDispose: code }));
}
