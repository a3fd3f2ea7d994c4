// Child processes of the runtime runner (the matrix and `bench --runtime`): each is started as the
// leader of its own process group (detached), so stopping it ends what it started too (a browser's
// renderers, a runtime's workers). Every live group is tracked here and ended, by its id, when this
// process exits or is interrupted (SIGINT, SIGTERM, SIGHUP): an interrupted run leaves no browser,
// workerd, Deno or Bun behind. SIGKILL of this process cannot be caught; nothing can clean up then.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** pid -> cleanup to run once the group is gone (e.g. removing a browser profile). */
const live = new Map();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

/** Ends a child's process group (ignores a group that is already gone). */
export function killGroup(child, signal = 'SIGTERM') {
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

/** Ends every tracked group at once and runs their cleanups (synchronous: safe in an exit handler). */
export function killAll() {
  for (const [pid, cleanup] of live) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
    try { cleanup?.(); } catch { /* best effort */ }
  }
  live.clear();
}

/** The pids of the groups started and not yet exited (the kill test reads them). */
export const liveGroups = () => [...live.keys()];

function onSignal(signal) {
  killAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // Nobody else handles it: die of the signal, as without this handler.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install() {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

/** spawn() in a new process group, tracked until it exits. `cleanup` runs after it is ended by
 *  killAll (its own stop path does its own cleanup). */
export function spawnGroup(cmd, args, options = {}, cleanup) {
  install();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true });
  if (child.pid !== undefined) {
    live.set(child.pid, cleanup);
    child.on('exit', () => live.delete(child.pid));
  }
  return child;
}

/** Every process on this machine as /proc shows it (Linux): { pid, ppid, pgid, state, comm, args,
 *  env (with { env: true }) }; the tests read it to find what a runner left behind, including
 *  helpers that left its process groups (a browser's crash handler starts a session of its own) but
 *  kept its environment. Zombies (state Z) are dead already. */
export function processTable({ env = false } = {}) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; } // gone meanwhile
    let args = '', environ = '';
    try { args = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim(); } catch { /* gone meanwhile */ }
    if (env) try { environ = readFileSync(`/proc/${d}/environ`, 'utf8'); } catch { /* gone, or not ours to read */ }
    const close = stat.lastIndexOf(')');
    const [state, ppid, pgid] = stat.slice(close + 2).split(' ');
    out.push({ pid: Number(d), ppid: Number(ppid), pgid: Number(pgid), state, comm: stat.slice(stat.indexOf('(') + 1, close), args, env: environ });
  }
  return out;
}

/** The live processes below `pid` (children, their children, ...). */
export function descendants(pid, table = processTable()) {
  const out = [], todo = [pid];
  while (todo.length) {
    const p = todo.pop();
    for (const x of table) if (x.ppid === p && x.state !== 'Z') { out.push(x); todo.push(x.pid); }
  }
  return out;
}
