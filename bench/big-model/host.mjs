// Node / Deno / Bun host: `<runtime> bench/big-model/host.mjs FILE CTX N`; prints "BIG_RESULT <json>".
import { runBig } from './case.mjs';

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const [file, ctx, n] = args;
const lib = await import(new URL('../../dist/index.js', import.meta.url).href);
const runtime = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.versions.node}`;
const { stat } = await import('node:fs/promises');
try {
  const report = await runBig(lib, file, { contextLength: Number(ctx), maxTokens: Number(n), fileSize: (await stat(file)).size, log: (m) => console.error(`[${runtime}] ${m}`) });
  console.log('BIG_RESULT ' + JSON.stringify({ runtime, ...report }));
} catch (e) {
  console.log('BIG_RESULT ' + JSON.stringify({ runtime, fatal: `${e?.code ? e.code + ': ' : ''}${e?.stack ?? e}` }));
}
