#!/usr/bin/env node
// Output goes through blocking writes to fds 1 and 2 (common.ts defaultIO), which turn a closed
// pipe into a quiet exit 0; process.stdout is never touched, so it never buffers.
import { describeError, OutputClosed } from './errors.js';
import { main } from './main.js';

// Last resort: whatever escapes main() is still one line, not a stack trace.
const fatal = (e: unknown) => {
  if (e instanceof OutputClosed) process.exit(0);
  try { process.stderr.write(`bitnet-wasm: ${describeError(e)}\n`); } catch { /* stderr gone */ }
  process.exit(1);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

// Bun (1.4) ends the process while main() still awaits init() when no timer or socket is open; a
// timer holds it until main is done (Node and Deno would wait anyway).
const keepAlive = setInterval(() => {}, 1 << 30);
main(process.argv.slice(2)).finally(() => clearInterval(keepAlive)).then((code) => { process.exitCode = code; }, fatal);
