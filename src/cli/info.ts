// `info`: what a GGUF model holds and how much memory bitnet-wasm will need for it.
import { formatInspection, inspectModel } from '../model/inspect.js';
import { checkReadable, describeError } from './errors.js';
import { MODEL_OPTION, modelFile, PROGRAM, type Command } from './common.js';
import { MAX_THREADS } from '../init.js';

export const command: Command = {
  spec: {
    name: 'info',
    summary: "a GGUF file's architecture, tensor types and memory needs",
    description: "Reads a GGUF file's header (not its tensor data) and prints the architecture, hyperparameters,\n"
      + 'tensors per type, ternary weights and their bits per weight, and the estimated memory use in\n'
      + 'bitnet-wasm for the relaxed (i2, 2 bits/weight) and simd128 (tl3, 5/3 bits/weight) builds.',
    positionals: [{ name: 'FILE', help: 'GGUF file', option: 'model' }],
    options: [
      MODEL_OPTION,
      { name: 'json', kind: 'flag', help: 'machine-readable output' },
      { name: 'ctx-size', short: 'c', aliases: ['ctx'], kind: 'int', arg: 'N', min: 1, max: 1 << 24, defaultText: "the model's trained context", help: 'context length for the KV cache estimate' },
      { name: 'threads', short: 't', kind: 'int', arg: 'N', min: 1, max: MAX_THREADS, defaultText: '1', help: 'threads to count a worker scratch for (each one past the first has its own)' },
    ],
    examples: [`${PROGRAM} info model.gguf --ctx 4096`],
  },
  async run(v, io) {
    const file = modelFile(v); // (-m / FILE, or the shipped model, as run and serve)
    await checkReadable(file, 'model');
    const i = await inspectModel(file, { contextLength: v['ctx-size'] as number | undefined, threads: v.threads as number | undefined })
      .catch((e) => { throw new Error(`${file}: ${describeError(e)}`, { cause: e }); });
    io.out(v.json ? JSON.stringify(i, null, 2) : formatInspection(i));
  },
};
