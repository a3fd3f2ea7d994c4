// `run`: generate text from a prompt, like llama.cpp's llama-cli / llama-simple.
import { readFile } from 'node:fs/promises';
import { BitnetError } from '../errors.js';
import type { GenerateResult } from '../model/model.js';
import { UsageError, checkReadable } from './errors.js';
import { describeModel, loadOptions, MODEL_OPTION, MODEL_POSITIONAL, openModel, PROGRAM, type Command } from './common.js';

/** Why generation stopped, in words. */
const FINISH: Record<GenerateResult['finishReason'], (ctx: number) => string> = {
  length: () => 'stopped: -n tokens generated',
  context: (ctx) => `stopped: the context is full (${ctx} tokens; -c sets it)`,
  eos: () => 'stopped: end of text (the model generated its end token)',
  stop: () => 'stopped: stop string',
  grammar: () => 'stopped: the grammar allows no further token',
};

export const command: Command = {
  spec: {
    name: 'run',
    summary: 'generate text from a prompt (llama-cli)',
    description: 'Generates text from a prompt and streams it to stdout after the prompt itself; the model\n'
      + 'line, timings and the reason generation stopped go to stderr. Sampling defaults are llama.cpp\'s.',
    positionals: [MODEL_POSITIONAL],
    options: [
      MODEL_OPTION,
      { name: 'prompt', short: 'p', kind: 'string', arg: 'TEXT', help: 'the prompt (this or -f is required)' },
      { name: 'file', short: 'f', kind: 'file', arg: 'FILE', help: 'read the prompt from a file' },
      { name: 'n-predict', short: 'n', kind: 'int', arg: 'N', min: 0, max: 1 << 20, special: [-1], default: 64, help: 'tokens to generate; -1 = until the context is full or the end token' },
      ...loadOptions({ defaultText: "the model's trained context, at most 4096", help: 'context length: prompt + generated tokens' }),
      { name: 'temp', aliases: ['temperature'], kind: 'number', arg: 'T', min: 0, max: 100, default: 0.8, help: 'temperature; 0 = greedy' },
      { name: 'top-k', kind: 'int', arg: 'N', min: 0, max: 2 ** 31 - 1, default: 40, help: 'keep the k most likely tokens; 0 = all' },
      { name: 'top-p', kind: 'number', arg: 'P', min: 0, max: 1, default: 0.95, help: 'nucleus: keep the smallest set reaching probability P; 1 = off' },
      { name: 'min-p', kind: 'number', arg: 'P', min: 0, max: 1, default: 0.05, help: 'keep tokens with p >= P * p(most likely); 0 = off' },
      { name: 'repeat-penalty', kind: 'number', arg: 'X', min: 0, max: 100, default: 1, help: 'penalize repeats of the last --repeat-last-n tokens; 1 = off' },
      { name: 'repeat-last-n', kind: 'int', arg: 'N', min: 0, max: 2 ** 31 - 1, default: 64, help: 'tokens the penalties look back over' },
      { name: 'presence-penalty', kind: 'number', arg: 'X', min: -100, max: 100, default: 0, help: 'subtracted from tokens already present; 0 = off' },
      { name: 'frequency-penalty', kind: 'number', arg: 'X', min: -100, max: 100, default: 0, help: 'subtracted per occurrence; 0 = off' },
      { name: 'seed', short: 's', kind: 'int', arg: 'N', min: 0, max: 0xffffffff, special: [-1], default: 0, help: 'sampling seed (the same seed gives the same text everywhere); -1 = random' },
      { name: 'no-display-prompt', kind: 'flag', help: 'do not print the prompt before the generated text' },
    ],
    examples: [`${PROGRAM} run -p "The jury said" -n 64 --temp 0.7 --seed 1`, `${PROGRAM} run -m model.gguf -f prompt.txt -n -1 -c 2048`],
  },
  check(v) {
    if (v.prompt === undefined && v.file === undefined) throw new UsageError('missing prompt: give -p TEXT or -f FILE');
    if (v.prompt !== undefined && v.file !== undefined) throw new UsageError('give the prompt once: -p TEXT or -f FILE, not both');
  },
  async run(v, io) {
    if (v.file !== undefined) await checkReadable(v.file as string, 'prompt file');
    const model = await openModel(v, io);
    try {
      const prompt = v.prompt as string ?? await readFile(v.file as string, 'utf8');
      const ids = model.tokenize(prompt);
      if (ids.length >= model.contextLength) {
        throw new BitnetError('CONTEXT_OVERFLOW', `the prompt has ${ids.length} tokens and the context holds ${model.contextLength} (-c sets it)`);
      }
      let seed = v.seed as number;
      if (seed === -1) seed = crypto.getRandomValues(new Uint32Array(1))[0];
      io.err(`${PROGRAM}: ${describeModel(model)}, seed ${seed}`);
      if (!v['no-display-prompt']) io.write(prompt);
      const n = v['n-predict'] as number;
      const r = await model.generate(ids, {
        maxTokens: n === -1 ? model.contextLength : n, temperature: v.temp as number, topK: v['top-k'] as number,
        topP: v['top-p'] as number, minP: v['min-p'] as number, repeatPenalty: v['repeat-penalty'] as number,
        penaltyLastN: v['repeat-last-n'] as number, presencePenalty: v['presence-penalty'] as number,
        frequencyPenalty: v['frequency-penalty'] as number, seed, onText: (t) => io.write(t),
      });
      io.write('\n');
      const s = r.stats;
      io.err(`prompt ${s.promptTokens} tokens at ${s.prefillTokensPerSecond.toFixed(1)} tok/s, generated ${s.generatedTokens} tokens at ${s.decodeTokensPerSecond.toFixed(1)} tok/s; ${FINISH[r.finishReason](model.contextLength)}`);
    } finally {
      model.dispose();
    }
  },
};
