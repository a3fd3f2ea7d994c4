// `bench`: prefill and decode speed, like llama-bench (pp N / tg N).
import { BitnetError } from '../errors.js';
import { kernelInfo } from '../init.js';
import { describeModel, loadOptions, MODEL_OPTION, MODEL_POSITIONAL, openModel, PROGRAM, type Command } from './common.js';
import { UsageError } from './errors.js';

export const command: Command = {
  spec: {
    name: 'bench',
    summary: 'prefill and decode speed (llama-bench)',
    description: 'Times a prompt of -p tokens (one prefill) and -n single-token decode steps, like llama-bench,\n'
      + 'and prints a markdown table. The model and build are described on stderr.',
    positionals: [MODEL_POSITIONAL],
    options: [
      MODEL_OPTION,
      { name: 'n-prompt', short: 'p', kind: 'int', arg: 'N', min: 1, max: 1 << 20, default: 128, help: 'prompt tokens to prefill (llama-bench -p)' },
      { name: 'n-gen', short: 'n', kind: 'int', arg: 'N', min: 0, max: 1 << 20, default: 64, help: 'tokens to decode one at a time (llama-bench -n)' },
      ...loadOptions({ defaultText: "the model's trained context, at most 4096", help: 'context length (must hold -p + -n)' }),
    ],
    examples: [`${PROGRAM} bench model.gguf -p 128 -n 64`],
  },
  check(v) {
    const p = v['n-prompt'] as number, n = v['n-gen'] as number, c = v['ctx-size'] as number | undefined;
    if (c !== undefined && p + n > c) throw new UsageError(`-p ${p} + -n ${n} tokens do not fit -c ${c}`);
  },
  async run(v, io) {
    const p = v['n-prompt'] as number, n = v['n-gen'] as number;
    const model = await openModel(v, io);
    try {
      if (p + n > model.contextLength) throw new BitnetError('CONTEXT_OVERFLOW', `-p ${p} + -n ${n} tokens do not fit the context of ${model.contextLength} (-c sets it)`);
      io.err(`${PROGRAM}: ${describeModel(model)}`);
      const r = model.bench({ prompt: p, gen: n });
      io.out(`| model | build | kernel | pp${p} tok/s | tg${n} tok/s |`);
      io.out('| --- | --- | --- | ---: | ---: |');
      io.out(`| ${(v.model as string | undefined) ?? 'default'} | ${kernelInfo().build} | ${model.kernel} | ${r.prefillTokensPerSecond.toFixed(1)} | ${n ? r.decodeTokensPerSecond.toFixed(1) : '-'} |`);
    } finally {
      model.dispose();
    }
  },
};
