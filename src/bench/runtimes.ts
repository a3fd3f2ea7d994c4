// --runtime: the suite in several runtimes, one merged run. This runtime runs it in-process; the
// others are started by the repository's runtime runner (test/runtimes/bench-hosts.mjs, which the
// runtime matrix also uses): Node, Deno and Bun run the CLI, browsers a page, workerd a Worker.
// A runtime that is not there is skipped with a line in the run's notes, never estimated.
import { runtimeName } from './env.js';
import { runBench, type RunOptions } from './run.js';
import type { BenchRun } from './types.js';

export const BENCH_RUNTIMES = ['node', 'deno', 'bun', 'chromium', 'firefox', 'workerd'] as const;

/** "node", "deno" or "bun": the runtime this code runs in. */
export const runtimeFamily = () => runtimeName().split(' ')[0];

export interface RuntimeRuns { runs: BenchRun[]; notes: string[] }

interface Hosts {
  benchIn(name: string, o: { options: RunOptions; childArgs: string[]; log: (line: string) => void }): Promise<{ run?: BenchRun; notes?: string[]; skipped?: string }>;
}

/** The runner of the repository this package runs from (absent from an installed package). */
async function importHosts(): Promise<Hosts | string> {
  const { existsSync } = await import('node:fs');
  const { fileURLToPath, pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  const candidates = ['../test/runtimes/bench-hosts.mjs', '../../test/runtimes/bench-hosts.mjs'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  candidates.push(resolve(process.cwd(), 'test/runtimes/bench-hosts.mjs'));
  const file = candidates.find((f) => existsSync(f));
  if (!file) return "needs the repository's runtime runner (test/runtimes/bench-hosts.mjs), which an installed package does not have";
  return await import(pathToFileURL(file).href) as Hosts;
}

export async function runWithRuntimes(names: string[], self: string, options: RunOptions, childArgs: string[], log: (line: string) => void): Promise<RuntimeRuns> {
  const out: RuntimeRuns = { runs: [], notes: [] };
  let hosts: Hosts | string | undefined;
  for (const name of names) {
    if (name === self) {
      log(`runtime ${name}: in this process`);
      out.runs.push(await runBench(options));
      continue;
    }
    hosts ??= await importHosts();
    if (typeof hosts === 'string') { out.notes.push(`${name}: skipped, ${hosts}`); continue; }
    log(`runtime ${name}`);
    try {
      const r = await hosts.benchIn(name, { options, childArgs, log });
      if (r.skipped) out.notes.push(`${name}: skipped, ${r.skipped}`);
      if (r.run) out.runs.push(r.run);
      out.notes.push(...(r.notes ?? []));
    } catch (e) {
      out.notes.push(`${name}: failed, ${(e as Error).message.split('\n')[0]}`);
    }
    for (const n of out.notes.filter((n) => n.startsWith(`${name}:`))) log(n);
  }
  return out;
}
