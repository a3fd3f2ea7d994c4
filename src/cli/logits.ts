// `logits`: the next-token logits after a token sequence (for checking against other engines).
import { UsageError } from './errors.js';
import { loadOptions, MODEL_OPTION, MODEL_POSITIONAL, openModel, PROGRAM, type Command } from './common.js';

export const command: Command = {
  spec: {
    name: 'logits',
    summary: 'print the next-token logits after a token sequence',
    description: 'Evaluates a token sequence from an empty cache and prints the logits of the last position:\n'
      + 'one "id<TAB>logit" line per vocabulary entry, or one JSON object with --json.',
    positionals: [MODEL_POSITIONAL],
    options: [
      MODEL_OPTION,
      { name: 'tokens', kind: 'ids', arg: 'LIST', min: 0, help: 'comma-separated token ids, e.g. 1,2,3 (this or -p is required)' },
      { name: 'prompt', short: 'p', kind: 'string', arg: 'TEXT', help: 'text to tokenize (with BOS as the model says) instead of --tokens' },
      { name: 'json', kind: 'flag', help: 'print {"tokens": [...], "logits": [...]}' },
      ...loadOptions({ defaultText: "the model's trained context, at most 4096", help: 'context length (the sequence must fit)' }),
    ],
    examples: [`${PROGRAM} logits model.gguf --tokens 1,2,3 --json`],
  },
  check(v) {
    if ((v.tokens === undefined) === (v.prompt === undefined)) throw new UsageError(v.tokens === undefined ? 'missing input: give --tokens LIST or -p TEXT' : 'give the input once: --tokens or -p, not both');
  },
  async run(v, io) {
    const model = await openModel(v, io);
    try {
      const ids = (v.tokens as number[] | undefined) ?? model.tokenize(v.prompt as string);
      const l = Array.from(model.logits(ids));
      if (v.json) io.out(JSON.stringify({ tokens: ids, logits: l }));
      else io.out(l.map((x, i) => `${i}\t${x}`).join('\n'));
    } finally {
      model.dispose();
    }
  },
};
