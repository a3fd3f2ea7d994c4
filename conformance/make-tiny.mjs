// Regenerates conformance/tiny.gguf (the conformance set's model input) from the source tree:
//   node conformance/make-tiny.mjs
// The file is committed, so the conformance set does not change when make-model does; its SHA-256
// is MODEL_SHA256 in cases.mjs and every host checks it.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
mkdirSync(new URL('build/', root), { recursive: true });
const out = new URL('build/make-model.bundle.mjs', root);
const r = await build({ entryPoints: [new URL('src/synth/make-model.ts', root).pathname], bundle: true, format: 'esm', platform: 'node', write: false, external: ['llama-tokenizer-js', 'llama3-tokenizer-js'] });
writeFileSync(out, r.outputFiles[0].text);
const { makeModel } = await import(out.href);
const bytes = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 7 });
writeFileSync(new URL('conformance/tiny.gguf', root), bytes);
const hash = Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');
console.log(`conformance/tiny.gguf: ${bytes.length} bytes, sha256 ${hash}`);
