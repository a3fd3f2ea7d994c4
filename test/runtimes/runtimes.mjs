// Where each runtime of the matrix comes from and how one conformance run is started in it.
// npm runtimes (test/package.json, installed by test/deps.mjs) are called by path (their packages' install scripts are not needed: the prebuilt
// binary is in a platform sub-package, or moved next to the wrapper when the script did run).
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BROWSERS, findBrowser, launch, version as browserVersion } from './browsers.mjs';
import { freePort, startWorkerd, writeConfig } from './workerd.mjs';
import { killGroup, spawnGroup } from './children.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const nm = (p) => resolve(ROOT, 'test/node_modules', p); // test/package.json (test/deps.mjs)

function firstExecutable(paths) {
  for (const p of paths) {
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).size > 1 << 20) return p; // not a placeholder script
    } catch { /* next */ }
  }
  return null;
}

export const NPM_BINARIES = {
  node22: () => firstExecutable([nm('node22/bin/node')]),
  node24: () => firstExecutable([nm('node24/bin/node')]),
  deno: () => firstExecutable([nm('@deno/linux-x64-glibc/deno'), nm('deno/deno')]),
  bun: () => firstExecutable([nm('@oven/bun-linux-x64/bin/bun'), nm('bun/bin/bun.exe'), nm('@oven/bun-linux-x64-baseline/bin/bun')]),
  workerd: () => firstExecutable([nm('@cloudflare/workerd-linux-64/bin/workerd')]),
};

/** Runs a command, collects stdout/stderr, with a time limit; onLine gets stderr's lines as they come. */
export function run(cmd, args, { env, timeoutMs = 300000, cwd = ROOT, onLine } = {}) {
  return new Promise((ok) => {
    const child = spawnGroup(cmd, args, { cwd, env: { ...process.env, ...env } });
    let stdout = '', stderr = '', line = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!onLine) return;
      const lines = (line + d).split('\n'); line = lines.pop();
      for (const l of lines) if (l) onLine(l);
    });
    const timer = setTimeout(() => { killGroup(child, 'SIGKILL'); stderr += `\n(killed after ${timeoutMs} ms)`; }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); ok({ status: -1, stdout, stderr: stderr + String(e) }); });
    // 'close', not 'exit': after exit the pipes can still hold the end of the output (a run's JSON).
    child.on('close', (code, sig) => { clearTimeout(timer); ok({ status: code ?? sig, stdout, stderr }); });
  });
}

function parseHostOutput(r) {
  const line = r.stdout.split('\n').find((l) => l.startsWith('CONFORMANCE_RESULT '));
  if (!line) return { fatal: `no result (exit ${r.status}): ${(r.stderr || r.stdout).slice(-3000)}` };
  return JSON.parse(line.slice('CONFORMANCE_RESULT '.length));
}

const HOST = resolve(ROOT, 'conformance/hosts/cli-host.mjs');

/** Node / Deno / Bun: one process runs the shared cases on both builds. */
export async function runCli(kind, binary, { env, threads } = {}) {
  const args = [...(kind === 'deno' ? ['run', '--allow-read', HOST] : [HOST]), ...(threads ? ['--threads', threads.join(',')] : [])];
  return parseHostOutput(await run(binary, args, { env }));
}

/** A browser page on 127.0.0.1 that POSTs its report back. */
export async function runBrowserPage(kind, binary, server, path, { prefs, timeoutMs = 180000 } = {}) {
  const id = `${kind}-${Math.random().toString(36).slice(2)}`;
  const result = new Promise((ok) => server.waiters.set(id, ok));
  const b = launch(kind, binary, `${server.url}${path}${path.includes('?') ? '&' : '?'}id=${id}`, { prefs });
  let timer;
  try {
    const r = await Promise.race([
      result,
      b.exited.then((m) => ({ fatal: `${m} before posting a result:\n${b.output().slice(-3000)}` })),
      new Promise((ok) => { timer = setTimeout(() => ok({ fatal: `no result within ${timeoutMs} ms:\n${b.output().slice(-3000)}` }), timeoutMs); }),
    ]);
    return r;
  } finally {
    clearTimeout(timer);
    server.waiters.delete(id);
    await b.stop();
  }
}

/** workerd: a config embedding the worker host, the shared cases, dist/workerd.js, both wasm
 *  modules and the model as data; one GET runs everything. */
export async function runWorkerd(binary, wVersion, { threads } = {}) {
  const port = await freePort();
  const configPath = resolve(ROOT, 'build/runtimes/conformance.capnp');
  writeConfig({
    configPath, port, modules: [
      { name: 'conformance/hosts/workerd-worker.mjs', type: 'esModule', file: resolve(ROOT, 'conformance/hosts/workerd-worker.mjs') },
      { name: 'conformance/cases.mjs', type: 'esModule', file: resolve(ROOT, 'conformance/cases.mjs') },
      { name: 'conformance/tiny.gguf', type: 'data', file: resolve(ROOT, 'conformance/tiny.gguf') },
      { name: 'dist/workerd.js', type: 'esModule', file: resolve(ROOT, 'dist/workerd.js') },
      { name: 'dist/bitnet-simd128.wasm', type: 'wasm', file: resolve(ROOT, 'dist/bitnet-simd128.wasm') },
      { name: 'dist/bitnet-relaxed.wasm', type: 'wasm', file: resolve(ROOT, 'dist/bitnet-relaxed.wasm') },
    ],
  });
  let w;
  try {
    w = await startWorkerd({ workerd: binary, configPath, port });
  } catch (e) {
    return { fatal: e.message };
  }
  try {
    const res = await fetch(`${w.url}/?version=${encodeURIComponent(wVersion)}${threads ? `&threads=${threads.join(',')}` : ''}`, { signal: AbortSignal.timeout(300000) });
    const text = await res.text();
    try { return JSON.parse(text); } catch { return { fatal: `HTTP ${res.status}: ${text.slice(0, 3000)}\n${w.output().slice(-3000)}` }; }
  } catch (e) {
    return { fatal: `${e.message}\n${w.output().slice(-3000)}` };
  } finally {
    w.stop();
  }
}

export async function binaryVersion(binary, args = ['--version']) {
  const r = await run(binary, args, { timeoutMs: 30000 });
  return r.stdout.trim().split('\n')[0];
}

export { BROWSERS, findBrowser, browserVersion, ROOT };
