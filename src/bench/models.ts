// The e2e suite's model files: make-model presets x ternary types, written once into a folder
// and reused while their size is what make-model would write (same preset, type and seed give
// the same bytes).
import { planModel, writeModelFile, type TernaryTypeName } from '../synth/make-model.js';
import type { PresetName } from '../synth/presets.js';
import type { BenchModel } from './run.js';

export async function presetModels(presets: string[], types: string[], dir: string, log: (line: string) => void): Promise<BenchModel[]> {
  const { mkdir, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  const out: BenchModel[] = [];
  for (const preset of presets) {
    for (const type of types) {
      const options = { preset: preset as PresetName, ternaryType: type as TernaryTypeName, seed: 1 };
      const file = join(dir, `${preset}-${type}.gguf`);
      const size = (await planModel(options)).fileSize;
      if ((await stat(file).catch(() => null))?.size !== size) {
        log(`make-model --preset ${preset} --ternary ${type} -o ${file}`);
        await writeModelFile(file, options);
      }
      out.push({ file, name: `${preset}-${type}`, type });
    }
  }
  return out;
}
