/**
 * `info`: what a GGUF model holds and how much memory bitnet-wasm will need for it.
 *
 *   info FILE [--json] [--ctx N]
 */
import { parseArgs } from 'node:util';
import { formatInspection, inspectModel } from '../gguf/inspect.js';
import type { CliIO } from './make-model.js';

const defaultIO: CliIO = { out: (l) => console.log(l), err: (l) => console.error(l) };

export const INFO_USAGE = `usage: info FILE [--json] [--ctx N]

Reads a GGUF file's header (not its tensor data) and prints the architecture, hyperparameters,
tensors per type, ternary weights and their bits per weight, and the estimated memory use in
bitnet-wasm for the relaxed (i2, 2 bits/weight) and simd128 (tl3, 5/3 bits/weight) builds.

options:
  --json        machine-readable output
  --ctx N       context length for the KV cache estimate (default: the model's)
  -h, --help    this text`;

export async function infoCommand(argv: string[], io: CliIO = defaultIO): Promise<number> {
  let file: string;
  let json = false;
  let ctx: number | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { json: { type: 'boolean' }, ctx: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      io.out(INFO_USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new Error(positionals.length ? 'expected one FILE' : 'missing FILE');
    file = positionals[0];
    json = values.json ?? false;
    if (values.ctx !== undefined) {
      if (!/^\d+$/.test(values.ctx) || Number(values.ctx) <= 0 || Number(values.ctx) > 1 << 24) throw new Error(`--ctx must be a positive integer, got ${JSON.stringify(values.ctx)}`);
      ctx = Number(values.ctx);
    }
  } catch (e) {
    io.err(`info: ${e instanceof Error ? e.message : String(e)}`);
    io.err(INFO_USAGE);
    return 2;
  }
  try {
    const i = await inspectModel(file, { contextLength: ctx });
    io.out(json ? JSON.stringify(i, null, 2) : formatInspection(i));
    return 0;
  } catch (e) {
    io.err(`info: ${file}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
