// The wasm side of the thread pool (builds with threads and a shared, imported memory). JS starts
// worker instances of the same module on the same memory; each runs pool_work() until it is told
// to quit. The calling thread posts a job in the control block (abi.ts POOL_*): its arguments,
// POOL_ACTIVE threads, POOL_PENDING = ACTIVE - 1, then bumps POOL_SEQ; it runs share 0 itself and
// waits until the workers have counted POOL_PENDING down to 0. Waiting spins briefly (jobs of one
// decode step follow each other within microseconds) and then sleeps in memory.atomic.wait32.
// Builds without threads compile none of this: pool_threads() is then always 1.
import {
  POOL_ACTIVE, POOL_ARGS, POOL_OP, POOL_OP_HEAD, POOL_OP_MATMUL, POOL_PENDING, POOL_QUIT, POOL_SEQ, POOL_THREADS, POOL_WSCRATCH,
  POOL_WSCRATCH_BYTES,
} from "../abi";
import { matmul_part } from "../ternary/matmul";
import { head_part } from "../model/forward";

/** This instance's control block when it is the calling side (0: no pool, one thread). */
let ctrl: usize = 0;

/** Polls before sleeping: ~10-50 µs on current CPUs, about the gap between two jobs of a step. */
const SPIN = 1 << 14;
/** Jobs smaller than this many multiply-adds run on the calling thread (a hand-off costs more). */
const MIN_WORK: f64 = 65536;

// @ts-ignore: decorator
@inline function word(c: usize, k: i32): usize { return c + (<usize>k << 2); }

/** Rows are handed out in blocks of 16 (TL3's row block, a multiple of I2's 4): whole blocks per thread. */
export const POOL_ROW_BLOCK = 16;

/** First row of share `index` of `t` over `rows` rows (share i is [split(i), split(i + 1))). */
// @ts-ignore: decorator
@inline export function pool_split(index: i32, t: i32, rows: i32): i32 {
  const blocks = <i64>((rows + POOL_ROW_BLOCK - 1) / POOL_ROW_BLOCK);
  return min(rows, <i32>(<i64>index * blocks / <i64>t) * POOL_ROW_BLOCK);
}

/** Attaches the control block at c (0 detaches): calls on this instance may then use the pool. */
export function pool_attach(c: usize): void { ctrl = c; }

/** Threads a job of `work` multiply-adds may use (1 without a pool). */
export function pool_threads(work: f64): i32 {
  if (!ASC_FEATURE_THREADS || ctrl == 0 || work < MIN_WORK) return 1;
  return max(1, load<i32>(word(ctrl, POOL_THREADS)));
}

/** Where the calling side writes a job's arguments. */
export function pool_args(): usize { return word(ctrl, POOL_ARGS); }

/** Bytes of scratch each worker has (for jobs that need their own work area). */
export function pool_wscratch_bytes(): i32 { return ctrl == 0 ? 0 : load<i32>(word(ctrl, POOL_WSCRATCH_BYTES)); }

function share(c: usize, op: i32, index: i32, t: i32): void {
  const ws: usize = index == 0 ? 0 : <usize>load<i32>(word(c, POOL_WSCRATCH)) + <usize>(index - 1) * <usize>load<i32>(word(c, POOL_WSCRATCH_BYTES));
  if (op == POOL_OP_MATMUL) matmul_part(word(c, POOL_ARGS), index, t, ws);
  else if (op == POOL_OP_HEAD) head_part(word(c, POOL_ARGS), index, t);
}

/** Runs job `op` (arguments at pool_args()) on t threads, this one included; returns when all are done. */
export function pool_run(op: i32, t: i32): void {
  if (!ASC_FEATURE_THREADS) { unreachable(); return; }
  const c = ctrl;
  store<i32>(word(c, POOL_OP), op);
  store<i32>(word(c, POOL_ACTIVE), t);
  atomic.store<i32>(word(c, POOL_PENDING), t - 1);
  atomic.add<i32>(word(c, POOL_SEQ), 1);          // seq-cst: the job's words are visible before it
  atomic.notify(word(c, POOL_SEQ), -1);           // all: a sleeping worker may be any of them
  share(c, op, 0, t);
  let spins = 0;
  for (let p = atomic.load<i32>(word(c, POOL_PENDING)); p != 0; p = atomic.load<i32>(word(c, POOL_PENDING))) {
    if (spins < SPIN) spins++;
    else atomic.wait<i32>(word(c, POOL_PENDING), p, -1);
  }
}

/** A worker's loop: runs its share of every job whose POOL_ACTIVE includes `index` (1-based),
 *  until POOL_QUIT. `seen`: POOL_SEQ as the worker's JS read it before saying it was ready. */
export function pool_work(c: usize, index: i32, seen: i32): void {
  if (!ASC_FEATURE_THREADS) { unreachable(); return; }
  while (true) {
    let spins = 0;
    let s = atomic.load<i32>(word(c, POOL_SEQ));
    while (s == seen) {
      if (spins < SPIN) spins++;
      else atomic.wait<i32>(word(c, POOL_SEQ), seen, -1);
      s = atomic.load<i32>(word(c, POOL_SEQ));
    }
    seen = s;
    if (atomic.load<i32>(word(c, POOL_QUIT)) != 0) return;
    const t = load<i32>(word(c, POOL_ACTIVE));
    if (index >= t) continue;
    share(c, load<i32>(word(c, POOL_OP)), index, t);
    if (atomic.sub<i32>(word(c, POOL_PENDING), 1) == 1) atomic.notify(word(c, POOL_PENDING), 1);
  }
}
