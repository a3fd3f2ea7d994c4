// `make-model`: writes a synthetic ternary model (seeded weights, real shapes and vocabulary).
import { TERNARY_TYPE_NAMES } from '../gguf/index.js';
import { EMBEDDING_TYPES, TOKENIZER_KINDS, writeModelFile, type EmbeddingTypeName, type TernaryTypeName } from '../synth/make-model.js';
import { MODEL_ARCHS, PRESET_NAMES, type ModelArch, type PresetName, type TokenizerKind } from '../synth/presets.js';
import { formatBytes } from '../model/inspect.js';
import { PROGRAM, type Command } from './common.js';
import { UsageError } from './errors.js';

export const command: Command = {
  spec: {
    name: 'make-model',
    summary: 'write a synthetic ternary model (GGUF) for tests and benchmarks',
    description: 'Writes a synthetic ternary BitNet model as GGUF: real tensor names, shapes, metadata and\n'
      + 'vocabulary; seeded random weights (the same seed gives the same file).',
    positionals: [],
    options: [
      { name: 'output', short: 'o', kind: 'string', arg: 'FILE', help: 'where to write (required)' },
      { name: 'preset', kind: 'choice', arg: 'NAME', choices: PRESET_NAMES, default: 'tiny', help: 'shape' },
      { name: 'arch', kind: 'choice', arg: 'ARCH', choices: MODEL_ARCHS, defaultText: "the preset's", help: 'architecture written to the file' },
      { name: 'ternary', kind: 'choice', arg: 'TYPE', choices: TERNARY_TYPE_NAMES, default: 'TQ2_0', help: 'ternary tensor type' },
      { name: 'embedding', kind: 'choice', arg: 'TYPE', choices: EMBEDDING_TYPES, default: 'F16', help: 'token embedding type' },
      { name: 'tokenizer', kind: 'choice', arg: 'KIND', choices: TOKENIZER_KINDS, defaultText: "the preset's", help: 'vocabulary' },
      { name: 'seed', short: 's', kind: 'int', arg: 'N', min: 0, max: 0xffffffff, default: 1, help: 'u32 seed of the weights' },
      { name: 'ctx-size', short: 'c', aliases: ['ctx'], kind: 'int', arg: 'N', min: 1, max: 1 << 24, defaultText: "the preset's", help: 'trained context length written to the file' },
      { name: 'quiet', short: 'q', kind: 'flag', help: 'no progress or summary' },
    ],
    examples: [`${PROGRAM} make-model --preset large --ternary TQ1_0 -o large.gguf`],
  },
  check(v) {
    if (v.output === undefined) throw new UsageError('missing -o FILE (where to write the model)');
  },
  async run(v, io) {
    const t0 = Date.now();
    let lastReport = 0;
    const output = v.output as string;
    const plan = await writeModelFile(output, {
      preset: v.preset as PresetName, arch: v.arch as ModelArch | undefined, ternaryType: v.ternary as TernaryTypeName,
      embeddingType: v.embedding as EmbeddingTypeName, tokenizer: v.tokenizer as TokenizerKind | undefined, seed: v.seed as number,
      config: v['ctx-size'] ? { nCtx: v['ctx-size'] as number } : {},
    }, (written, total) => {
      const t = Date.now();
      if (!v.quiet && total > 64 << 20 && t - lastReport > 2000) {
        lastReport = t;
        io.err(`  ${formatBytes(written)} / ${formatBytes(total)}`);
      }
    });
    if (v.quiet) return;
    const c = plan.config;
    io.out(`wrote ${output}: ${formatBytes(plan.fileSize)} (${plan.fileSize} bytes) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    io.out(`  ${c.arch}, ${c.nLayer} layers, n_embd ${c.nEmbd}, ${c.nHead}/${c.nHeadKv} heads, n_ff ${c.nFf}, vocab ${plan.nVocab} (${c.tokenizer}), ctx ${c.nCtx}, ${c.activation}`);
    io.out(`  ${plan.ternaryType} projections, ${plan.embeddingType} embedding, seed ${plan.seed}, ${plan.tensors.length} tensors`);
  },
};
