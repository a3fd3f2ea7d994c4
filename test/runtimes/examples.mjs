// Checks of the examples and the packaging, run by matrix.mjs: the Node script, the Cloudflare
// Worker under workerd (streamed response), the chat page in headless Chromium (model cache:
// network then cache; with and without cross-origin isolation; screenshots in test-artifacts/), bundles of each example with
// esbuild and rollup through the package's export conditions, and the `npm pack` file list.
import { build as esbuild } from 'esbuild';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer } from './server.mjs';
import { NPM_BINARIES, ROOT, findBrowser, run } from './runtimes.mjs';
import { freePort, startWorkerd } from './workerd.mjs';

const ARTIFACTS = resolve(ROOT, 'test-artifacts');
const BUNDLES = resolve(ROOT, 'build/example-bundles');
// What `npm pack` must publish: the bundles, the types and both .wasm builds as separate files.
const PACKED = ['LICENSE', 'README.md', 'dist/bitnet-relaxed-mt.wasm', 'dist/bitnet-relaxed.wasm', 'dist/bitnet-simd128-mt.wasm', 'dist/bitnet-simd128.wasm', 'dist/browser.js', 'dist/cli.js', 'dist/engine-worker.js', 'dist/index.cjs', 'dist/index.d.cts', 'dist/index.d.ts', 'dist/index.js', 'dist/worker.d.ts', 'dist/worker.js', 'dist/workerd.js', 'models/default.gguf', 'package.json'];

export async function runExampleChecks({ check, skip }) {
  mkdirSync(ARTIFACTS, { recursive: true });
  mkdirSync(BUNDLES, { recursive: true });
  const results = {};

  // -- packaging ------------------------------------------------------------------------------
  const pack = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { timeoutMs: 120000 });
  let files = [];
  try { files = JSON.parse(pack.stdout)[0].files.map((f) => f.path).sort(); } catch { /* below */ }
  const extraOk = (f) => /^dist\/[a-z][\w-]*-[\w-]{8}\.js$/i.test(f); // the CLI's chunks (hashed names)
  const missing = PACKED.filter((f) => !files.includes(f)), extra = files.filter((f) => !PACKED.includes(f) && !extraOk(f));
  check(missing.length === 0 && extra.length === 0, 'npm pack publishes exactly the bundles, the CLI, types, the four .wasm files, the default model and the license',
    `missing ${missing.join(', ') || '-'}; extra ${extra.join(', ') || '-'}${files.length ? '' : `; npm pack said: ${pack.stderr.slice(-500)}`}`);
  results.packed = files;
  const exp = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')).exports['.'];
  check(exp.workerd === './dist/workerd.js' && exp.browser === './dist/browser.js' && exp.deno && exp.node && exp.default,
    'package.json exports: workerd, browser, deno, node and default conditions', JSON.stringify(exp));
  const resolved = await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('bitnet-wasm'))"]);
  check(resolved.stdout.trim().endsWith('/dist/index.js'), 'Node resolves `bitnet-wasm` to dist/index.js', resolved.stdout + resolved.stderr);

  // -- Node example -----------------------------------------------------------------------------
  const nodeEx = await run(process.execPath, ['examples/node/complete.mjs', 'models/default.gguf', 'Once upon a time'], { timeoutMs: 120000 });
  const refText = nodeEx.stdout.replace(/\n$/, '');
  check(nodeEx.status === 0 && refText.length > 0 && /tok\/s/.test(nodeEx.stderr), 'examples/node/complete.mjs streams a completion', nodeEx.stderr.slice(-800));
  results.node = { text: refText, stderr: nodeEx.stderr.trim() };

  // -- bundles: esbuild and rollup through the export conditions -------------------------------------
  const bundles = [
    { name: 'browser page', entry: 'examples/browser/app.mjs', platform: 'browser', conditions: ['browser'], expect: 'dist/worker.js', external: [] },
    { name: 'cloudflare worker', entry: 'examples/cloudflare-worker/worker.mjs', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'], expect: 'dist/workerd.js', external: ['*.wasm', '*.gguf'] },
    { name: 'node script', entry: 'examples/node/complete.mjs', platform: 'node', conditions: ['node'], expect: 'dist/index.js', external: ['@huggingface/jinja'] },
  ];
  for (const b of bundles) {
    const tag = b.name.replace(/\W+/g, '-');
    try {
      const r = await esbuild({ entryPoints: [resolve(ROOT, b.entry)], bundle: true, format: 'esm', platform: b.platform, conditions: b.conditions,
        mainFields: ['module', 'main'], external: b.external, outfile: resolve(BUNDLES, `${tag}.esbuild.js`), metafile: true, logLevel: 'silent', target: 'es2022' });
      const inputs = Object.keys(r.metafile.inputs);
      const nodeImports = b.platform === 'node' ? [] : Object.values(r.metafile.outputs).flatMap((o) => o.imports).filter((i) => i.path.startsWith('node:'));
      check(r.errors.length === 0 && r.warnings.length === 0 && inputs.includes(b.expect) && nodeImports.length === 0,
        `esbuild bundles the ${b.name} example (resolves ${b.expect}, no warnings)`, `inputs ${inputs.join(', ')}; warnings ${r.warnings.map((w) => w.text).join('; ')}; node imports ${nodeImports.map((i) => i.path)}`);
    } catch (e) {
      check(false, `esbuild bundles the ${b.name} example`, e.message);
    }
    try {
      const warnings = [];
      const bundle = await rollup({
        input: resolve(ROOT, b.entry),
        external: (id) => b.external.some((p) => id.endsWith(p.slice(1))) || (b.platform === 'node' && (id.startsWith('node:') || id === '@huggingface/jinja')),
        plugins: [nodeResolve({ exportConditions: b.conditions, browser: b.platform === 'browser', preferBuiltins: b.platform === 'node' })],
        onwarn: (w) => warnings.push(`${w.code}: ${w.message}`),
      });
      const ids = bundle.watchFiles.map((f) => f.slice(ROOT.length + 1));
      await bundle.write({ file: resolve(BUNDLES, `${tag}.rollup.js`), format: 'es', inlineDynamicImports: true });
      await bundle.close();
      check(warnings.length === 0 && ids.includes(b.expect), `rollup bundles the ${b.name} example (resolves ${b.expect}, no warnings)`, `${warnings.join('; ')}; modules ${ids.filter((i) => !i.includes('node_modules')).join(', ')}`);
    } catch (e) {
      check(false, `rollup bundles the ${b.name} example`, e.message);
    }
  }

  // -- Cloudflare Worker example under workerd ------------------------------------------------------
  const workerd = NPM_BINARIES.workerd();
  const built = await run(process.execPath, ['examples/cloudflare-worker/build.mjs'], { timeoutMs: 120000 });
  check(built.status === 0, 'examples/cloudflare-worker/build.mjs bundles the worker (esbuild, "workerd" condition)', built.stderr.slice(-800));
  if (!workerd) skip('the Cloudflare Worker example under workerd', 'workerd is not installed: run `node test/deps.mjs`');
  if (workerd && built.status === 0) {
    const port = await freePort();
    let w;
    try {
      w = await startWorkerd({ workerd, configPath: resolve(ROOT, 'examples/cloudflare-worker/config.capnp'), port, args: ['--socket-addr', `http=127.0.0.1:${port}`] });
      // The node example's prompt and sampling (examples/node/complete.mjs), streamed as server-sent events.
      const res = await fetch(`${w.url}/v1/completions`, { method: 'POST', signal: AbortSignal.timeout(120000),
        body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 64, temperature: 0.9, top_k: 40, top_p: 0.95, seed: 1234, stream: true }) });
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let chunks = 0, raw = '';
      for (;;) { const { done, value } = await reader.read(); if (done) break; chunks++; raw += dec.decode(value, { stream: true }); }
      const data = raw.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
      const done = data.pop();
      let text = null;
      try { text = data.map((d) => JSON.parse(d).choices[0].text).join(''); } catch { /* below */ }
      results.worker = { status: res.status, chunks, text };
      check(res.status === 200 && chunks > 1 && done === '[DONE]' && text === refText, 'the Cloudflare Worker example (the OpenAI-compatible handler) streams the same completion under workerd',
        `HTTP ${res.status}, ${chunks} chunks, last ${JSON.stringify(done)}, text ${JSON.stringify(text?.slice(0, 120))} vs node ${JSON.stringify(refText.slice(0, 120))}; ${raw.slice(0, 300)}`);
    } catch (e) {
      check(false, 'the Cloudflare Worker example runs under workerd', `${e.message}\n${w?.output().slice(-1500) ?? ''}`);
    } finally {
      w?.stop();
    }
  }

  // -- the chat page in headless Chromium ----------------------------------------------------------
  // With COOP/COEP: two visits in one profile (browser-chat.mjs): the first downloads the model in
  // parallel Range requests into the Cache API, the second loads it from there without a request;
  // Stop ends a reply; screenshot of the finished reply. Without isolation: the page says so and
  // gives the same reply. The reply must equal the library's model.chat() on Node.
  const chromium = findBrowser('chromium');
  const node24 = NPM_BINARIES.node24() ?? NPM_BINARIES.node22();
  if (!chromium) {
    skip('the browser example in chromium', 'chromium is not installed. Install it with: apt-get update && apt-get install -y chromium');
  } else {
    const lib = await import(resolve(ROOT, 'dist/index.js'));
    const model = await lib.loadModel(resolve(ROOT, 'models/default.gguf'));
    const template = typeof model.header.metadata.get('tokenizer.chat_template')?.value === 'string' ? undefined : lib.FALLBACK_CHAT_TEMPLATE;
    const chatRef = (await model.chat([{ role: 'user', content: 'Once upon a time' }], { maxTokens: 64, temperature: 0.9, topK: 40, topP: 0.95, seed: 1234, template })).text;
    model.dispose();
    const modelSize = statSync(resolve(ROOT, 'models/default.gguf')).size;
    const CHUNK = 1 << 18; // 256 KiB ranges: the 2 MB model comes in 8 requests, 4 at a time
    for (const coi of [true, false]) {
      const requests = [];
      const waiters = new Map();
      const server = await startServer({ root: ROOT, coi, files: { '/model.gguf': resolve(ROOT, 'models/default.gguf') },
        onResult: (id, b) => waiters.get(id)?.(b), onRequest: (r) => { if (r.path === '/model.gguf') requests.push(r); } });
      const page = `${server.url}/examples/browser/index.html?chunk=${CHUNK}`;
      if (coi) {
        const shot = resolve(ARTIFACTS, 'browser-chat.png');
        let firstRequests = -1;
        waiters.set('first', () => { firstRequests = requests.length; });
        const r = await run(node24, [resolve(ROOT, 'test/runtimes/browser-chat.mjs'), chromium, page, shot, '150000'], { timeoutMs: 180000 });
        await server.close();
        const line = r.stdout.split('\n').find((l) => l.startsWith('BROWSER_CHAT_RESULT '));
        const got = line ? JSON.parse(line.slice('BROWSER_CHAT_RESULT '.length)) : null;
        const { first, second } = got ?? {};
        results.browserCache = got && { firstLoadMs: first.loadMs, secondLoadMs: second.loadMs, firstFetchMs: first.fetchMs, secondFetchMs: second.fetchMs,
          firstSource: first.source, secondSource: second.source, modelRequests: requests.map((q) => q.range), tokPerSec: second.tokPerSec, screenshot: 'test-artifacts/browser-chat.png' };
        const detail = `exit ${r.status} ${r.stderr.slice(-500)}; ${JSON.stringify(got).slice(0, 700)}; requests ${JSON.stringify(requests.map((q) => q.range))}`;
        const nRanges = Math.ceil(modelSize / CHUNK);
        const wantRanges = Array.from({ length: nRanges }, (_, i) => `bytes=${i * CHUNK}-${Math.min((i + 1) * CHUNK, modelSize) - 1}`).sort();
        check(!!got && !first.error && first.source === 'network' && firstRequests === nRanges && JSON.stringify(requests.map((q) => q.range).sort()) === JSON.stringify(wantRanges),
          `the chat page's first visit downloads the model in ${nRanges} Range requests into the Cache API (load ${first?.loadMs?.toFixed(0)} ms)`, detail);
        check(!!got && !second.error && second.source === 'cache' && requests.length === firstRequests && second.cachedModels.length === 1 && second.cachedModels[0].bytes === modelSize,
          `the second visit loads it from the cache without a request (load ${second?.loadMs?.toFixed(0)} ms); the cache lists it with its size`, detail);
        check(!!got && first.text === chatRef && second.text === chatRef && first.crossOriginIsolated && first.envMessage === '',
          'the chat page (COOP/COEP) streams the same reply as model.chat() on Node; screenshot test-artifacts/browser-chat.png', `${detail}; node: ${JSON.stringify(chatRef.slice(0, 120))}`);
        check(!!got && second.stopped?.stopped === true && second.stopped.text.length > 0 && second.stopped.text.length < chatRef.length,
          'Stop ends a reply being generated, keeping what came so far', detail);
      } else {
        const got = new Promise((ok) => waiters.set('page', ok));
        const shot = resolve(ARTIFACTS, 'browser-example-no-isolation.png');
        const r = await run(node24, [resolve(ROOT, 'test/runtimes/screenshot.mjs'), chromium, `${page}&autorun=1&report=page`, shot, '120000'], { timeoutMs: 150000 });
        const res = await Promise.race([got, new Promise((ok) => setTimeout(ok, 5000, null))]);
        await server.close();
        results.browserNoIsolation = res;
        check(r.status === 0 && res && !res.error && res.text === chatRef && res.crossOriginIsolated === false && /not cross-origin isolated/.test(res.envMessage),
          'the chat page without cross-origin isolation says so and still gives the same reply', `screenshot exit ${r.status} ${r.stderr.slice(-500)}; page ${JSON.stringify(res).slice(0, 400)}`);
      }
    }
  }
  return results;
}
