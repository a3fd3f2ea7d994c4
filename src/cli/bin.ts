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

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, fatal);
