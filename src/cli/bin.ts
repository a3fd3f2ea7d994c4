#!/usr/bin/env node
import { BitnetError } from '../errors.js';
import { main } from './main.js';

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
  console.error(e instanceof BitnetError ? `bitnet-wasm: ${e.message}` : e);
  process.exitCode = 1;
});
