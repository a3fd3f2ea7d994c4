// Bundles worker.mjs with esbuild the way wrangler does: `bitnet-wasm` through its "workerd"
// export condition, .wasm and .gguf imports left as module imports and the files copied next to
// the bundle, where config.capnp embeds them.
//   node examples/cloudflare-worker/build.mjs [model.gguf]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'worker.mjs')], outfile: join(out, 'worker.js'),
  bundle: true, format: 'esm', platform: 'neutral', target: 'es2022',
  conditions: ['workerd', 'worker', 'browser'], mainFields: ['module', 'main'],
  external: ['*.wasm', '*.gguf'], logLevel: 'warning',
});
// The package's wasm files, found through its "./wasm/*" export.
const require = createRequire(join(here, 'worker.mjs'));
const pkgDist = dirname(require.resolve('bitnet-wasm/wasm/bitnet-simd128.wasm'));
for (const b of ['simd128', 'relaxed']) copyFileSync(join(pkgDist, `bitnet-${b}.wasm`), join(out, `bitnet-${b}.wasm`));
// The model: the one given, else the package's shipped model (its "./models/default.gguf" export).
const model = process.argv[2] ?? require.resolve('bitnet-wasm/models/default.gguf');
copyFileSync(model, join(out, 'model.gguf'));
console.log(`built ${join(out, 'worker.js')}`);
