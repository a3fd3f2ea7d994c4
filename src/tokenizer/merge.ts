import { Heap } from './heap';

interface Pair {
  left: number;
  right: number;
  priority: number;
  size: number;
}

const first = (a: Pair, b: Pair) => a.priority > b.priority || (a.priority === b.priority && a.left < b.left);

/**
 * The merge loop llama.cpp's SentencePiece and BPE sessions share: m symbols in a linked list,
 * candidate adjacent pairs in a priority queue (highest priority first, ties: the leftmost pair),
 * pairs made stale by an earlier merge skipped by their size. `len` holds each symbol's length
 * and is updated in place (a merged-away symbol gets 0); `priority(left, right)` gives a pair's
 * priority, or undefined when the two cannot merge. Returns `next`: walk it from 0 until -1.
 */
export function mergeSymbols(m: number, len: Int32Array, priority: (left: number, right: number) => number | undefined): Int32Array {
  const prev = new Int32Array(m);
  const next = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    prev[k] = k - 1;
    next[k] = k + 1 < m ? k + 1 : -1;
  }
  const queue = new Heap<Pair>(first);
  const tryAdd = (left: number, right: number) => {
    if (left < 0 || right < 0) return;
    const p = priority(left, right);
    if (p !== undefined) queue.push({ left, right, priority: p, size: len[left] + len[right] });
  };
  for (let k = 1; k < m; k++) tryAdd(k - 1, k);
  for (let b = queue.pop(); b !== undefined; b = queue.pop()) {
    const l = b.left;
    const r = b.right;
    if (len[l] === 0 || len[r] === 0 || len[l] + len[r] !== b.size) continue;
    len[l] += len[r];
    len[r] = 0;
    next[l] = next[r];
    if (next[r] >= 0) prev[next[r]] = l;
    tryAdd(prev[l], l);
    tryAdd(l, next[l]);
  }
  return next;
}
