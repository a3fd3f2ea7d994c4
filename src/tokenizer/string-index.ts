/**
 * A list of strings indexed by content, built once per model load for the vocabulary's tokens and
 * merges: open addressing over an Int32Array of positions in the list itself. A Map of 280k merge
 * strings took ~150-200 ms of a load here, this ~20 (no per-entry allocation, no rehashing as it
 * grows, no copy of the strings). The hash is seeded at random per table, and a table whose probes
 * run long (keys crafted to collide) gives way to a Map, so no file can make building it quadratic.
 */
export interface StringLookup {
  /** The first position of key in the list, or undefined. */
  get(key: string): number | undefined;
  /** Distinct keys. */
  readonly size: number;
}

/** FNV-1a over UTF-16 units from a (random) seed, then murmur3's finalizer so that every bit of
 *  the state reaches the low bits a table takes. Exported for tests. */
export function stringHash(key: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Probes one insertion may take before the table gives way to a Map. */
const MAX_PROBES = 64;

class StringTable implements StringLookup {
  private readonly slots: Int32Array; // position + 1; 0 = empty
  private readonly mask: number;
  size = 0;

  constructor(private readonly keys: readonly string[], private readonly seed: number) {
    let cap = 16;
    while (cap < 2 * keys.length) cap *= 2;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get(key: string): number | undefined {
    for (let i = stringHash(key, this.seed) & this.mask; ; i = (i + 1) & this.mask) {
      const e = this.slots[i];
      if (e === 0) return undefined;
      if (this.keys[e - 1] === key) return e - 1;
    }
  }

  /** Adds position p unless its key is present: returns the earlier position (nothing changes),
   *  -1 when added, or -2 when the probes ran past MAX_PROBES (not added). */
  add(p: number): number {
    const key = this.keys[p];
    let i = stringHash(key, this.seed) & this.mask;
    for (let probes = 0; ; i = (i + 1) & this.mask, probes++) {
      const e = this.slots[i];
      if (e === 0) break;
      if (this.keys[e - 1] === key) return e - 1;
      if (probes === MAX_PROBES) return -2;
    }
    this.slots[i] = p + 1;
    this.size++;
    return -1;
  }
}

/**
 * Indexes keys by content; the first occurrence of a key is the one found. onDuplicate(i, first)
 * is called for a later occurrence i; it is meant to throw (when the table gives way to a Map it
 * may be called again for the same i). `seed` only for tests.
 */
export function buildStringLookup(keys: readonly string[], onDuplicate?: (i: number, first: number) => void,
                                  seed = (Math.random() * 2 ** 32) | 0): StringLookup {
  const table = new StringTable(keys, seed);
  for (let i = 0; i < keys.length; i++) {
    const prev = table.add(i);
    if (prev === -2) return buildMap(keys, onDuplicate);
    if (prev >= 0) onDuplicate?.(i, prev);
  }
  return table;
}

function buildMap(keys: readonly string[], onDuplicate?: (i: number, first: number) => void): StringLookup {
  const map = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) {
    const prev = map.get(keys[i]);
    if (prev === undefined) map.set(keys[i], i);
    else onDuplicate?.(i, prev);
  }
  return map;
}
