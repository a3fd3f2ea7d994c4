// --runtime: the suite in several runtimes, one merged run. This runtime runs it in-process; the
// others are started by the repository's runtime runner (test/runtimes/bench-hosts.mjs, which the
// runtime matrix also uses): Node, Deno and Bun run the CLI, browsers a page, workerd a Worker.
// A runtime that is not there is skipped with a line in the run's notes, never estimated.
import { runtimeName } from './env.js';
import { mergeRuns, runBench, type RunOptions } from './run.js';
import type { BenchRun } from './types.js';

export const BENCH_RUNTIMES = ['node', 'deno', 'bun', 'chromium', 'firefox', 'workerd'] as const;

/** "node", "deno" or "bun": the runtime this code runs in. */
export const runtimeFamily = () => runtimeName().split(' ')[0];

export interface RuntimeRuns { runs: BenchRun[]; notes: string[] }

/** The note of a runtime a stopped run did not reach (a saved partial run lists it, never zeros). */
export const notRunNote = (name: string) => `${name}: not run (the run stopped before it)`;

/** Notes that say a whole runtime is missing from a run (not run, skipped, failed): the report
 *  lists them beside the figures. */
export const missingRuntimes = (run: BenchRun) =>
  run.notes.filter((n) => (BENCH_RUNTIMES as readonly string[]).includes(n.split(':')[0]) && /^\w+: (not run|skipped|failed)\b/.test(n));

/** The runtimes a (saved) run has figures of. */
export const runtimesIn = (run: BenchRun) => [...new Set((run.envs ?? [run.env]).map((e) => e.runtime.split(' ')[0]))];

/** The runtime runner: runs the suite in runtime `name` (bench-hosts.mjs). */
export interface Hosts {
  benchIn(name: string, o: { options: RunOptions; childArgs: string[]; log: (line: string) => void }): Promise<{ run?: BenchRun; notes?: string[]; skipped?: string }>;
}

export interface RuntimesOptions {
  /** Called after each runtime with the run so far (runtimes still to come are notRunNote notes):
   *  --report saves it, so a stopped run keeps every runtime that finished. */
  save?: (run: BenchRun) => Promise<void>;
  /** A saved run (--resume): the runtimes it has figures of are kept, not run again. */
  resume?: BenchRun;
  /** The runtime runner; default the repository's (test/runtimes/bench-hosts.mjs). */
  hosts?: Hosts;
}

/** The runtime runner of the repository this package runs from (absent from an installed package). */
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

/** Several runs (and notes) as one run, with runtimes still to come as notes; undefined before
 *  any runtime gave figures. */
export function runSoFar(r: RuntimeRuns, pending: string[], command: string): BenchRun | undefined {
  if (!r.runs.length) return undefined;
  return { ...mergeRuns({ runs: r.runs, notes: [...r.notes, ...pending.map(notRunNote)] }), command };
}

export async function runWithRuntimes(names: string[], self: string, options: RunOptions, childArgs: string[], log: (line: string) => void, more: RuntimesOptions = {}): Promise<RuntimeRuns> {
  const out: RuntimeRuns = { runs: [], notes: [] };
  const kept = more.resume ? runtimesIn(more.resume).filter((n) => names.includes(n)) : [];
  if (more.resume && kept.length) {
    // What the saved run said about the runtimes that run again now is replaced by their new run.
    const again = (n: string) => !kept.includes(n.split(':')[0]) && (BENCH_RUNTIMES as readonly string[]).includes(n.split(':')[0]);
    out.runs.push({ ...more.resume, notes: more.resume.notes.filter((n) => !again(n)) });
    log(`runtimes ${kept.join(', ')}: kept from the saved run (--resume)`);
  }
  const todo = names.filter((n) => !kept.includes(n));
  let hosts: Hosts | string | undefined = more.hosts;
  for (const [i, name] of todo.entries()) {
    try {
      if (name === self) {
        log(`runtime ${name}: in this process`);
        out.runs.push(await runBench(options));
      } else {
        hosts ??= await importHosts();
        if (typeof hosts === 'string') {
          out.notes.push(`${name}: skipped, ${hosts}`);
        } else {
          log(`runtime ${name}`);
          const r = await hosts.benchIn(name, { options, childArgs, log });
          if (r.skipped) out.notes.push(`${name}: skipped, ${r.skipped}`);
          if (r.run) out.runs.push(r.run);
          out.notes.push(...(r.notes ?? []));
        }
      }
    } catch (e) { // this runtime's failure is a note; the others' figures are kept
      out.notes.push(`${name}: failed, ${(e as Error).message.split('\n')[0]}`);
    }
    for (const n of out.notes.filter((n) => n.startsWith(`${name}:`))) log(n);
    const so = more.save && runSoFar(out, todo.slice(i + 1), options.command);
    // A run that cannot be saved goes on (its end writes the whole run again).
    if (so) await more.save!(so).catch((e: Error) => log(`could not save the run so far: ${e.message}`));
  }
  return out;
}
