// The vocabulary's string lookup (src/tokenizer/string-index.ts) answers as a Map built the same way
// (first occurrence wins), and keys crafted to collide make it give way to a Map, not go quadratic.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildStringLookup, stringHash } from '../../src/tokenizer/string-index.js';

function reference(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  keys.forEach((k, i) => { if (!m.has(k)) m.set(k, i); });
  return m;
}

describe('buildStringLookup', () => {
  it('answers as a Map: every key, duplicates (first wins), absent keys, any UTF-16 (property test)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 300 }), fc.array(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 50 }), fc.integer(), (keys, probes, seed) => {
        const want = reference(keys);
        const got = buildStringLookup(keys, undefined, seed);
        expect(got.size).toBe(want.size);
        for (const k of [...keys, ...probes]) expect(got.get(k)).toBe(want.get(k));
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('calls onDuplicate with the later position and the first', () => {
    const keys = ['a', 'b', 'a', 'c', 'b'];
    const seen: [number, number][] = [];
    const got = buildStringLookup(keys, (i, first) => { seen.push([i, first]); });
    expect(seen).toEqual([[2, 0], [4, 1]]);
    expect([got.size, got.get('a'), got.get('b'), got.get('c'), got.get('d')]).toEqual([3, 0, 1, 3, undefined]);
  });

  it('keys that all land on one slot (for a known seed) make it give way to a Map, with the same answers', () => {
    const seed = 12345, n = 600, mask = 2047; // the table for 600 keys has 2048 slots
    const keys: string[] = [];
    for (let j = 0; keys.length < n; j++) if ((stringHash(`k${j}`, seed) & mask) === 7) keys.push(`k${j}`);
    const got = buildStringLookup(keys, undefined, seed);
    expect(got).toBeInstanceOf(Map);
    keys.forEach((k, i) => expect(got.get(k)).toBe(i));
    // Other seeds spread the same keys: the table stays.
    expect(buildStringLookup(keys, undefined, seed + 1)).not.toBeInstanceOf(Map);
  });
});
