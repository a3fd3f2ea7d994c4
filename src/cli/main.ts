// bitnet-wasm command line: run, logits, perplexity, bench (and make-model, info).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BitnetError } from '../errors.js';
import { init, kernelInfo } from '../init.js';
import { loadModel, type Model } from '../model/model.js';

/** The model shipped with the package: models/default.gguf next to dist/ (or, running from the
 *  source tree, next to src/). */
export const DEFAULT_MODEL = ['../models/default.gguf', '../../models/default.gguf']
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((p) => existsSync(p)) ?? fileURLToPath(new URL('../models/default.gguf', import.meta.url));

const USAGE = `usage: bitnet-wasm <command> [options]
  run [MODEL] -p TEXT [-n 64] [--temp 0.8] [--top-k 40] [--top-p 1] [--min-p 0] [--seed 0] [--ctx N] [--build simd128|relaxed]
  logits MODEL --tokens 1,2,3 [--json]
  perplexity MODEL FILE [--ctx 512]
  bench [MODEL] [-p 128] [-n 64]
  make-model --preset tiny|large|2b4t -o FILE [...]   (bitnet-wasm make-model --help)
  info FILE [--json]
  serve [MODEL] [--host 127.0.0.1] [--port 8080]   OpenAI-compatible HTTP API (bitnet-wasm serve --help)
MODEL defaults to the embedded model (${DEFAULT_MODEL}).`;

interface Args { pos: string[]; opt: Map<string, string>; flags: Set<string> }
const VALUE_OPTS = new Set(['-p', '-n', '--temp', '--top-k', '--top-p', '--min-p', '--seed', '--ctx', '--tokens', '--build', '--repeat-penalty']);
function parse(argv: string[]): Args {
  const a: Args = { pos: [], opt: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i];
    if (VALUE_OPTS.has(s)) {
      if (i + 1 >= argv.length) throw new BitnetError('BAD_ARGUMENT', `${s} needs a value`);
      a.opt.set(s, argv[++i]);
    } else if (s.startsWith('-') && s.length > 1) a.flags.add(s);
    else a.pos.push(s);
  }
  return a;
}
function numOpt(a: Args, k: string, dflt?: number): number | undefined {
  const v = a.opt.get(k);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new BitnetError('BAD_ARGUMENT', `${k} needs a number, got '${v}'`);
  return n;
}

async function open(a: Args, path: string | undefined): Promise<Model> {
  const build = a.opt.get('--build') as 'simd128' | 'relaxed' | undefined;
  await init({ build });
  const file = path ?? DEFAULT_MODEL;
  return loadModel(file, { contextLength: numOpt(a, '--ctx') });
}

const out = (s: string) => process.stdout.write(s);

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') { console.log(USAGE); return cmd ? 0 : 2; }
  if (cmd === 'make-model') return (await import('./make-model.js')).makeModelCommand(rest);
  if (cmd === 'info') return (await import('./info.js')).infoCommand(rest);
  if (cmd === 'serve') return (await import('./serve.js')).serveCommand(rest, DEFAULT_MODEL);
  const a = parse(rest);
  if (cmd === 'run') {
    const prompt = a.opt.get('-p');
    if (prompt === undefined) { console.error('run needs -p TEXT\n' + USAGE); return 2; }
    const model = await open(a, a.pos[0]);
    const info = kernelInfo();
    console.error(`bitnet-wasm: ${model.config.architecture} ${model.config.nLayer} layers, ${info.build} build, ${model.kernel} kernel`);
    out(prompt);
    const r = await model.generate(prompt, {
      maxTokens: numOpt(a, '-n', 64), temperature: numOpt(a, '--temp', 0.8), topK: numOpt(a, '--top-k'), topP: numOpt(a, '--top-p'),
      minP: numOpt(a, '--min-p'), seed: numOpt(a, '--seed', 0), repeatPenalty: numOpt(a, '--repeat-penalty'), onText: out,
    });
    const s = r.stats;
    out('\n');
    console.error(`\nprompt ${s.promptTokens} tokens at ${s.prefillTokensPerSecond.toFixed(1)} tok/s, generated ${s.generatedTokens} tokens at ${s.decodeTokensPerSecond.toFixed(1)} tok/s`);
    model.dispose();
    return 0;
  }
  if (cmd === 'logits') {
    const t = a.opt.get('--tokens');
    if (!a.pos[0] || !t) { console.error(USAGE); return 2; }
    const model = await open(a, a.pos[0]);
    const ids = t.split(',').map((x) => Number(x.trim()));
    const l = model.logits(ids);
    if (a.flags.has('--json')) console.log(JSON.stringify({ tokens: ids, logits: Array.from(l) }));
    else console.log(Array.from(l).map((v, i) => `${i}\t${v}`).join('\n'));
    model.dispose();
    return 0;
  }
  if (cmd === 'perplexity') {
    if (a.pos.length < 2) { console.error(USAGE); return 2; }
    const model = await open(a, a.pos[0]);
    const text = await readFile(a.pos[1], 'utf8');
    const ids = model.tokenize(text);
    const t0 = performance.now();
    const r = model.perplexity(ids);
    console.log(`perplexity ${r.perplexity.toFixed(4)} over ${r.count} tokens (mean nll ${r.meanNll.toFixed(6)}; ${(r.count / ((performance.now() - t0) / 1000)).toFixed(1)} tok/s)`);
    model.dispose();
    return 0;
  }
  if (cmd === 'bench') {
    const model = await open(a, a.pos[0]);
    const info = kernelInfo();
    const r = model.bench({ prompt: numOpt(a, '-p', 128), gen: numOpt(a, '-n', 64) });
    console.log(`| model | build | kernel | pp${numOpt(a, '-p', 128)} tok/s | tg${numOpt(a, '-n', 64)} tok/s |`);
    console.log(`| ${a.pos[0] ?? 'default'} | ${info.build} | ${model.kernel} | ${r.prefillTokensPerSecond.toFixed(1)} | ${r.decodeTokensPerSecond.toFixed(1)} |`);
    model.dispose();
    return 0;
  }
  console.error(`unknown command '${cmd}'\n${USAGE}`);
  return 2;
}
