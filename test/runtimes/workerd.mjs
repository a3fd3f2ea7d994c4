// Runs a worker under workerd (npm `workerd`) on 127.0.0.1: writes a config that embeds the given
// modules (ES modules, compiled wasm, data), starts `workerd serve`, and waits until it answers.
import { killGroup, spawnGroup } from './children.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, relative, resolve } from 'node:path';

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

/**
 * @param {{ workerd: string, configPath: string, modules: { name: string, type: 'esModule'|'wasm'|'data'|'text', file: string }[],
 *           compatibilityDate?: string, port: number }} o  modules[0] is the main module.
 */
export function writeConfig(o) {
  mkdirSync(dirname(o.configPath), { recursive: true });
  const rel = (f) => relative(dirname(o.configPath), resolve(f));
  const mods = o.modules.map((m) => `    (name = ${JSON.stringify(m.name)}, ${m.type} = embed ${JSON.stringify(rel(m.file))})`).join(',\n');
  writeFileSync(o.configPath, `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .mainWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${o.port}", http = (), service = "main") ],
);

const mainWorker :Workerd.Worker = (
  modules = [
${mods}
  ],
  compatibilityDate = ${JSON.stringify(o.compatibilityDate ?? '2025-09-01')},
);
`);
}

/** Starts workerd on a config; resolves once it accepts HTTP. Returns { url, stop, output }. */
export async function startWorkerd({ workerd, configPath, port, timeoutMs = 60000, args = [] }) {
  const child = spawnGroup(workerd, ['serve', configPath, '--verbose', ...args]);
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  child.on('exit', (code, sig) => { exited = `workerd exited (${code ?? sig})`; });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => { if (exited === null) killGroup(child, 'SIGTERM'); };
  const t0 = Date.now();
  for (;;) {
    if (exited) throw new Error(`${exited}:\n${output}`);
    try {
      await fetch(url + '/__ping', { signal: AbortSignal.timeout(2000) }).catch((e) => { throw e; });
      break;
    } catch {
      if (Date.now() - t0 > timeoutMs) { stop(); throw new Error(`workerd did not answer on ${url} within ${timeoutMs} ms:\n${output}`); }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url, stop, output: () => output, child };
}
