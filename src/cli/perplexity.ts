// `perplexity`: what llama.cpp's llama-perplexity computes (or, with --all-tokens, every token).
import { readFile } from 'node:fs/promises';
import { BitnetError } from '../errors.js';
import { checkReadable } from './errors.js';
import { loadOptions, MODEL_OPTION, MODEL_POSITIONAL, openModel, PROGRAM, type Command } from './common.js';

const now = () => performance.now();

export const command: Command = {
  spec: {
    name: 'perplexity',
    summary: 'perplexity of a text file (llama-perplexity)',
    description: 'Computes what llama.cpp\'s llama-perplexity computes, so the figures compare: the text (with BOS)\n'
      + 'is cut into windows of -c tokens (the tail that fills no window is dropped); each window is\n'
      + 'evaluated from an empty cache with its first token replaced by BOS, and only the second half of\n'
      + 'each window is scored. Prints the running figure per window ([1]x,[2]y,...) and\n'
      + '"Final estimate: PPL = X +/- Y". --all-tokens scores every token instead (windows of -c, each\n'
      + 'from an empty cache, no BOS swap): the library\'s default model.perplexity() figure.',
    positionals: [MODEL_POSITIONAL, { name: 'FILE', help: 'text file', option: 'file', required: true }],
    options: [
      MODEL_OPTION,
      { name: 'file', short: 'f', kind: 'file', arg: 'FILE', help: 'text file to score' },
      ...loadOptions({ default: 512, min: 2, help: 'window: tokens per evaluation from an empty cache (llama-perplexity -c)' }),
      { name: 'all-tokens', kind: 'flag', help: 'score every token of each window, not only its second half' },
    ],
    examples: [`${PROGRAM} perplexity -m model.gguf -f wiki.test.raw -c 512`, `${PROGRAM} perplexity model.gguf text.txt --all-tokens`],
  },
  async run(v, io) {
    await checkReadable(v.file as string, 'text file');
    const window = v['ctx-size'] as number;
    const model = await openModel(v, io);
    try {
      const text = await readFile(v.file as string, 'utf8');
      const ids = model.tokenize(text);
      const all = v['all-tokens'] === true;
      if (!all && ids.length < window) {
        throw new BitnetError('BAD_ARGUMENT', `${v.file} has ${ids.length} tokens; -c ${window} needs at least ${window} (one window): use a smaller -c or --all-tokens`);
      }
      if (all && ids.length < 2) throw new BitnetError('BAD_ARGUMENT', `${v.file} has ${ids.length} token(s); perplexity needs at least 2`);
      const t0 = now();
      // As llama-perplexity: the running figure after each window as it comes.
      const r = model.perplexity(ids, { mode: all ? 'all' : 'llama', window, onWindow: (i, p) => io.write(`${i ? ',' : ''}[${i + 1}]${p.toFixed(4)}`) });
      const seconds = (now() - t0) / 1000;
      io.write('\n');
      io.out(`Final estimate: PPL = ${r.perplexity.toFixed(4)} +/- ${r.uncertainty.toFixed(5)}`);
      io.err(`${PROGRAM}: ${ids.length} tokens, windows of ${window}: ${r.windows.length}, ${r.count} scored (${all ? 'every token' : 'second half of each window'}), ${(r.count / seconds).toFixed(1)} tok/s`);
    } finally {
      model.dispose();
    }
  },
};
