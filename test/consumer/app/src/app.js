// The page's check: init, load the model from `modelSource`, generate greedily, then confirm that a
// missing file is a BitnetError; POST the result to `?report=` (a cross-origin no-cors POST, so a
// dev server on another port can report as well).
import { BitnetError, init, kernelInfo, loadModel } from 'bitnet-wasm';

export const PROMPT = 'The jury said';
export const OPTIONS = { maxTokens: 16, temperature: 0, seed: 1 };

export async function runApp(modelSource) {
  const report = new URLSearchParams(location.search).get('report');
  const result = {};
  try {
    await init();
    result.build = kernelInfo().build;
    const model = await loadModel(modelSource);
    result.text = (await model.generate(PROMPT, OPTIONS)).text;
    model.dispose();
    try {
      await loadModel('missing-model.gguf');
      result.missing = 'loaded?!';
    } catch (e) {
      result.missing = `${e instanceof BitnetError ? 'BitnetError' : e?.name} ${e?.code}: ${e?.message}`;
    }
  } catch (e) {
    result.error = `${e?.name}: ${e?.message}`;
  }
  document.body.textContent = JSON.stringify(result);
  if (report) await fetch(report, { method: 'POST', mode: 'no-cors', body: JSON.stringify(result) });
}
