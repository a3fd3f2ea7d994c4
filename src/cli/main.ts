// bitnet-wasm command line: one table of commands, each with one table of options (options.ts).
// Exit codes: 0 done, 1 the work failed (file, model, memory), 2 the command line is wrong.
import { readFileSync } from 'node:fs';
import { closest, formatHelp, parseCommand } from './options.js';
import { describeError, OutputClosed, UsageError } from './errors.js';
import { defaultIO, packageJsonPath, PROGRAM, type CliIO, type Command } from './common.js';
import { command as run } from './run.js';
import { command as logits } from './logits.js';
import { command as perplexity } from './perplexity.js';
import { command as bench } from './bench.js';
import { command as makeModel } from './make-model.js';
import { command as info } from './info.js';
import { command as serve } from './serve.js';

export { DEFAULT_MODEL, type CliIO } from './common.js';

export const COMMANDS: Record<string, Command> = {
  run, logits, perplexity, bench, 'make-model': makeModel, info, serve,
};

export function version(): string {
  try {
    return JSON.parse(readFileSync(packageJsonPath(), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    `usage: ${PROGRAM} <command> [options]     (${PROGRAM} <command> --help for its options)`,
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}${c.spec.summary}`),
    '',
    `  ${PROGRAM} --version     the version`,
  ].join('\n');
}

/** Runs one command line; never throws. Returns the exit code. */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (e) {
    if (e instanceof OutputClosed) return 0;
    io.err(`${PROGRAM}: ${describeError(e)}`);
    return 1;
  }
}

async function dispatch(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) { io.err(`${PROGRAM}: missing command (${Object.keys(COMMANDS).join(', ')}); ${PROGRAM} --help lists them`); return 2; }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) { io.out(formatHelp(COMMANDS[topic].spec, PROGRAM)); return 0; }
    io.out(overview());
    return 0;
  }
  if (name === '--version') { io.out(`${PROGRAM} ${version()}`); return 0; }
  return runCommand(name, rest, io);
}

async function runCommand(name: string, rest: string[], io: CliIO): Promise<number> {
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    const near = closest(name, Object.keys(COMMANDS));
    const what = name.startsWith('-') ? `option ${name} before the command` : `command ${JSON.stringify(name)}`;
    io.err(`${PROGRAM}: unknown ${what}${near ? ` (did you mean ${near}?)` : ''}; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  let values;
  try {
    values = parseCommand(cmd.spec, rest, Object.values(COMMANDS).filter((c) => c !== cmd).map((c) => c.spec)).values;
    if (values.help) { io.out(formatHelp(cmd.spec, PROGRAM)); return 0; }
    if (values.version) { io.out(`${PROGRAM} ${version()}`); return 0; }
    cmd.check?.(values);
  } catch (e) {
    io.err(`${PROGRAM} ${name}: ${describeError(e)}${e instanceof UsageError ? `; see ${PROGRAM} ${name} --help` : ''}`);
    return e instanceof UsageError ? 2 : 1;
  }
  try {
    await cmd.run(values, io);
    return 0;
  } catch (e) {
    if (e instanceof OutputClosed) throw e;
    io.err(`${PROGRAM} ${name}: ${describeError(e)}`);
    return e instanceof UsageError ? 2 : 1;
  }
}
