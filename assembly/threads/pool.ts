// The wasm side of the thread pool (builds with threads and a shared, imported memory). JS starts
// worker instances of the same module on the same memory; each runs pool_work() until it is told to
// quit. A job is cut into pieces (runs of 16-row blocks) that threads claim one at a time from an
// atomic counter (abi.ts POOL_*): whoever is running takes the next piece, so a worker the OS has
// descheduled delays nothing (the caller takes its share), and a row's code never depends on who
// runs it, so the bits do not either. Waiting spins briefly (jobs of one decode step follow each
// other within microseconds), then sleeps in memory.atomic.wait32.
// Builds without threads compile none of this: pool_threads() is then always 1.
import {
  POOL_ACTIVE, POOL_ARGS, POOL_CHUNKS, POOL_DONE, POOL_FAILED, POOL_MIN_WORK, POOL_MIN_WORK_DEFAULT, POOL_NEXT, POOL_OP, POOL_OP_ATTENTION, POOL_OP_HEAD, POOL_OP_MATMUL,
  POOL_OP_MATMUL_FUSED, POOL_OP_QUANTIZE, POOL_OP_ROWS, POOL_QUIT, POOL_SEQ, POOL_THREADS, POOL_WORKER_OP_PIECES, POOL_WORKER_PIECES, POOL_WSCRATCH, POOL_WSCRATCH_BYTES,
} from "../abi";
import { matmul_fused_part, matmul_part, quantize_part } from "../ternary/matmul";
import { attention_part, head_part, rows_part } from "../model/forward";

/** This instance's control block when it is the calling side (0: no pool, one thread). */
let ctrl: usize = 0;

/** Polls before sleeping: ~10-50 µs on current CPUs, about the gap between two jobs of a step. */
const SPIN = 1 << 14;
/** Pieces per thread: small enough that a late or slow thread leaves little for the others to wait on. */
export const PIECES_PER_THREAD = 4;

// @ts-ignore: decorator
@inline function word(c: usize, k: i32): usize { return c + (<usize>k << 2); }

/** Rows are handed out in blocks of 16 (TL3's row block, a multiple of I2's 4). */
const POOL_ROW_BLOCK = 16;

// @ts-ignore: decorator
@inline function row_blocks(rows: i32): i32 { return (rows + POOL_ROW_BLOCK - 1) / POOL_ROW_BLOCK; }

/** First row of piece `i` of `pieces` over `rows` rows (piece i is [split(i), split(i + 1))). The
 *  pieces shrink toward the end: the first i end at 1 - (1 - i / pieces)^2 of the row blocks, so
 *  the last pieces claimed are short (the last ~1 / pieces^2 of the job, or empty) and a thread
 *  that finishes first waits at most for one of those, not for an even share of the job. */
// @ts-ignore: decorator
@inline export function pool_split(i: i32, pieces: i32, rows: i32): i32 {
  const blocks = <i64>row_blocks(rows), left = <i64>(pieces - i);
  return min(rows, <i32>(blocks - blocks * left * left / (<i64>pieces * <i64>pieces)) * POOL_ROW_BLOCK);
}

/** Where piece i of `pieces` even pieces of n rows starts (row jobs: quantization, norms, RoPE). */
// @ts-ignore: decorator
@inline export function pool_even(i: i32, pieces: i32, n: i32): i32 { return <i32>(<i64>i * <i64>n / <i64>pieces); }

/** Attaches the control block at c (0 detaches): calls on this instance may then use the pool. */
export function pool_attach(c: usize): void { ctrl = c; }

/** Threads a job of `work` multiply-adds made of `parts` independent parts may use: at most one
 *  per part (1 without a pool, or for a job too small to hand off: under POOL_MIN_WORK, which a
 *  model raises to what its load measured, src/calibrate.ts). */
export function pool_threads_of(work: f64, parts: i32): i32 {
  if (!ASC_FEATURE_THREADS || ctrl == 0 || work < <f64>max(POOL_MIN_WORK_DEFAULT, load<i32>(word(ctrl, POOL_MIN_WORK)))) return 1;
  return max(1, min(load<i32>(word(ctrl, POOL_THREADS)), parts));
}

/** pool_threads_of for a job over `rows` rows: its parts are row blocks. */
export function pool_threads(work: f64, rows: i32): i32 { return pool_threads_of(work, row_blocks(rows)); }

/** Where the calling side writes a job's arguments. */
export function pool_args(): usize { return word(ctrl, POOL_ARGS); }

/** Bytes of scratch each worker has (for jobs that need their own work area). */
export function pool_wscratch_bytes(): i32 { return ctrl == 0 ? 0 : load<i32>(word(ctrl, POOL_WSCRATCH_BYTES)); }

/** Claims and runs pieces of the job of generation `gen` until none is left (or the job is over). */
function work(c: usize, index: i32, gen: i32): void {
  if (!ASC_FEATURE_THREADS) { unreachable(); return; }
  // Atomic (ordered) loads: if these see the next job's words, the POOL_NEXT load below sees that
  // job's closed counter (pool_run closes it before rewriting them), so nothing is claimed.
  const op = atomic.load<i32>(word(c, POOL_OP)), pieces = atomic.load<i32>(word(c, POOL_CHUNKS)), a = word(c, POOL_ARGS);
  const ws: usize = index == 0 ? 0 : <usize>load<i32>(word(c, POOL_WSCRATCH)) + <usize>(index - 1) * <usize>load<i32>(word(c, POOL_WSCRATCH_BYTES));
  while (true) {
    const v = atomic.load<i32>(word(c, POOL_NEXT));
    // Another job's counter (this one is over): what was read above may belong to it, so stop.
    if ((v >>> 16) != gen || (v & 0xffff) >= pieces) return;
    if (atomic.cmpxchg<i32>(word(c, POOL_NEXT), v, v + 1) != v) continue;
    const i = v & 0xffff;
    if (op == POOL_OP_MATMUL) matmul_part(a, i, pieces, ws);
    else if (op == POOL_OP_HEAD) head_part(a, i, pieces);
    else if (op == POOL_OP_ATTENTION) attention_part(a, i, pieces, ws);
    else if (op == POOL_OP_MATMUL_FUSED) matmul_fused_part(a, i, pieces, ws);
    else if (op == POOL_OP_ROWS) rows_part(a, i, pieces, ws);
    else if (op == POOL_OP_QUANTIZE) quantize_part(a, i, pieces);
    if (index != 0) { atomic.add<i32>(word(c, POOL_WORKER_PIECES), 1); atomic.add<i32>(word(c, POOL_WORKER_OP_PIECES + op), 1); }
    if (atomic.add<i32>(word(c, POOL_DONE), 1) + 1 == pieces) atomic.notify(word(c, POOL_DONE), 1);
  }
}

/** Runs job `op` (arguments at pool_args()) on up to t threads, this one included, over `rows`
 *  rows (pieces: runs of row blocks, pool_split); returns when every piece is done. */
export function pool_run(op: i32, t: i32, rows: i32): void {
  pool_run_pieces(op, t, min(t * PIECES_PER_THREAD, row_blocks(rows)));
}

/** Runs job `op` as `pieces` pieces (1..65535: POOL_NEXT's low 16 bits count them; what piece i
 *  does is the op's business) on up to t threads, this one included; returns when every piece is done. */
export function pool_run_pieces(op: i32, t: i32, pieces: i32): void {
  if (!ASC_FEATURE_THREADS) { unreachable(); return; }
  const c = ctrl;
  const seq = atomic.load<i32>(word(c, POOL_SEQ)) + 1, gen = seq & 0xffff;
  // Close the counter first: a worker still in the last job's work() (it may have woken after that
  // job ended) could otherwise read this job's larger POOL_CHUNKS against the last job's counter,
  // claim a piece that is not there and add to this job's POOL_DONE after the reset below, so DONE
  // passed POOL_CHUNKS and the caller waited forever (a hang seen in Chromium's engine worker).
  atomic.store<i32>(word(c, POOL_NEXT), (gen << 16) | 0xffff);
  atomic.store<i32>(word(c, POOL_OP), op);
  atomic.store<i32>(word(c, POOL_ACTIVE), t);
  atomic.store<i32>(word(c, POOL_CHUNKS), pieces);
  atomic.store<i32>(word(c, POOL_DONE), 0);
  atomic.store<i32>(word(c, POOL_NEXT), gen << 16);
  atomic.store<i32>(word(c, POOL_SEQ), seq);        // seq-cst: the job's words are visible before it
  atomic.notify(word(c, POOL_SEQ), -1);            // all: a sleeping worker may be any of them
  work(c, 0, gen);
  let spins = 0;
  for (let d = atomic.load<i32>(word(c, POOL_DONE)); d != pieces; d = atomic.load<i32>(word(c, POOL_DONE))) {
    if (atomic.load<i32>(word(c, POOL_FAILED)) != 0) return; // its JS throws after this call
    if (spins < SPIN) spins++;
    else atomic.wait<i32>(word(c, POOL_DONE), d, 1000000000); // 1 s: re-check FAILED now and then
  }
}

/** A worker's loop: takes pieces of every job whose POOL_ACTIVE includes `index` (1-based), until
 *  POOL_QUIT. `seen`: POOL_SEQ as the worker's JS read it before saying it was ready. */
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
    if (index < load<i32>(word(c, POOL_ACTIVE))) work(c, index, s & 0xffff);
  }
}
