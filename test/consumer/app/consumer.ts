// Type-checked by the consumer test under `module: nodenext` (no DOM lib) and `moduleResolution: bundler` (DOM).
import { BitnetError, defaultModelUrl, init, loadModel, type GenerateResult, type InitOptions, type KernelInfo } from 'bitnet-wasm';

export async function complete(prompt: string): Promise<string> {
  const info: KernelInfo = await init();
  const opts: InitOptions = { build: info.build, bytes: new Uint8Array(8) };
  void opts;
  const model = await loadModel(defaultModelUrl(), { contextLength: 256 });
  const r: GenerateResult = await model.generate(prompt, { maxTokens: 8, temperature: 0.7, topK: 40, seed: 1, onText: (t: string) => void t });
  // @ts-expect-error maxTokens is a number: the types are real, not `any`
  await model.generate(prompt, { maxTokens: 'many' });
  model.dispose();
  return r.text;
}

export function isLibraryError(e: unknown): e is BitnetError {
  return e instanceof BitnetError && typeof e.code === 'string';
}
