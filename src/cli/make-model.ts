/**
 * `make-model`: writes a synthetic ternary model (seeded weights, real shapes and vocabulary).
 *
 *   make-model --preset tiny|large|2b4t [--arch bitnet|bitnet-b1.58|llama] [--ternary TQ1_0|TQ2_0|I2_S]
 *              [--embedding F16|BF16|F32|Q8_0|Q6_K] [--tokenizer spm|bpe|llama|llama3] [--seed N]
 *              [--ctx N] -o FILE
 */
import { parseArgs } from 'node:util';
import { EMBEDDING_TYPES, TERNARY_TYPES, TOKENIZER_KINDS, writeModelFile, type EmbeddingTypeName, type TernaryTypeName } from '../gguf/make-model.js';
import { PRESET_NAMES, type ModelArch, type ModelConfig, type PresetName, type TokenizerKind } from '../gguf/presets.js';
import { formatBytes } from '../gguf/inspect.js';

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

const defaultIO: CliIO = { out: (l) => console.log(l), err: (l) => console.error(l) };

const ARCHS: readonly ModelArch[] = ['bitnet', 'bitnet-b1.58', 'llama'];

export const MAKE_MODEL_USAGE = `usage: make-model --preset ${PRESET_NAMES.join('|')} [options] -o FILE

Writes a synthetic ternary BitNet model as GGUF: real tensor names, shapes, metadata and
vocabulary; seeded random weights (the same seed gives the same file).

options:
  --preset NAME      ${PRESET_NAMES.join(', ')} (default tiny)
  --arch ARCH        ${ARCHS.join(', ')} (default: the preset's, bitnet)
  --ternary TYPE     ${TERNARY_TYPES.join(', ')} (default TQ2_0)
  --embedding TYPE   ${EMBEDDING_TYPES.join(', ')} (default F16)
  --tokenizer KIND   ${TOKENIZER_KINDS.join(', ')} (default: the preset's)
  --seed N           u32 seed (default 1)
  --ctx N            context length written to the file (default: the preset's)
  -o, --output FILE  where to write
  -q, --quiet        no progress
  -h, --help         this text`;

function pick<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

class UsageError extends Error {}

function intArg(name: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`--${name} must be an integer in 0..${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

export async function makeModelCommand(argv: string[], io: CliIO = defaultIO): Promise<number> {
  let opts;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        preset: { type: 'string' },
        arch: { type: 'string' },
        ternary: { type: 'string' },
        embedding: { type: 'string' },
        tokenizer: { type: 'string' },
        seed: { type: 'string' },
        ctx: { type: 'string' },
        output: { type: 'string', short: 'o' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(MAKE_MODEL_USAGE);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (!values.output) throw new UsageError('missing -o FILE');
    const ctx = intArg('ctx', values.ctx, 1 << 24);
    if (ctx === 0) throw new UsageError('--ctx must be positive');
    const config: Partial<ModelConfig> = ctx ? { nCtx: ctx } : {};
    opts = {
      output: values.output,
      quiet: values.quiet ?? false,
      preset: pick<PresetName>('preset', values.preset, PRESET_NAMES) ?? 'tiny',
      arch: pick<ModelArch>('arch', values.arch, ARCHS),
      ternaryType: pick<TernaryTypeName>('ternary', values.ternary, TERNARY_TYPES),
      embeddingType: pick<EmbeddingTypeName>('embedding', values.embedding, EMBEDDING_TYPES),
      tokenizer: pick<TokenizerKind>('tokenizer', values.tokenizer, TOKENIZER_KINDS),
      seed: intArg('seed', values.seed, 0xffffffff),
      config,
    };
  } catch (e) {
    io.err(`make-model: ${e instanceof Error ? e.message : String(e)}`);
    io.err(MAKE_MODEL_USAGE);
    return 2;
  }
  const { output, quiet, ...makeOptions } = opts;
  try {
    const t0 = Date.now();
    let lastReport = 0;
    const plan = await writeModelFile(output, makeOptions, (written, total) => {
      const now = Date.now();
      if (!quiet && total > 64 << 20 && now - lastReport > 2000) {
        lastReport = now;
        io.err(`  ${formatBytes(written)} / ${formatBytes(total)}`);
      }
    });
    const c = plan.config;
    if (!quiet) {
      io.out(`wrote ${output}: ${formatBytes(plan.fileSize)} (${plan.fileSize} bytes) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      io.out(`  ${c.arch}, ${c.nLayer} layers, n_embd ${c.nEmbd}, ${c.nHead}/${c.nHeadKv} heads, n_ff ${c.nFf}, vocab ${plan.nVocab} (${c.tokenizer}), ctx ${c.nCtx}, ${c.activation}`);
      io.out(`  ${plan.ternaryType} projections, ${plan.embeddingType} embedding, seed ${plan.seed}, ${plan.tensors.length} tensors`);
    }
    return 0;
  } catch (e) {
    io.err(`make-model: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
