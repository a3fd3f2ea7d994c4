// Host for Node, Deno and Bun: `<runtime> conformance/hosts/cli-host.mjs [--entry dist/index.js] [--threads 3,...]`
// (--threads: run the cases again with that many threads each).
// Prints one line "CONFORMANCE_RESULT <json>" (the runner reads it) plus progress on stderr.
import { readFile } from 'node:fs/promises';
import { runAll } from '../cases.mjs';

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const entryArg = args.indexOf('--entry');
const entry = new URL(`../../${entryArg >= 0 ? args[entryArg + 1] : 'dist/index.js'}`, import.meta.url);
const lib = await import(entry.href);

const runtime = globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : 'node';
const version = globalThis.Deno ? Deno.version.deno : globalThis.Bun ? Bun.version : process.version.slice(1);
const modelBytes = new Uint8Array(await readFile(new URL('../tiny.gguf', import.meta.url)));
const t0 = performance.now();
const threadsArg = args.indexOf('--threads');
const threads = threadsArg >= 0 ? args[threadsArg + 1].split(',').map(Number) : [];
const report = await runAll(lib, { modelBytes, runtime, version, threads, log: (m) => console.error(`[${runtime} ${version}] ${m}`) });
report.ms = performance.now() - t0;
report.engine = globalThis.Deno ? `V8 ${Deno.version.v8}` : globalThis.Bun ? 'JavaScriptCore' : `V8 ${process.versions.v8}`;
console.log('CONFORMANCE_RESULT ' + JSON.stringify(report));
