// The metadata's memory is budgeted while parsing (proportional to the file size, with a cap), and
// every BitnetError that comes from file bytes carries the byte offset (config and tokenizer too).
import { beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../src/synth/make-model.js';
import { loadModel } from '../../src/model/model.js';
import { BitnetError } from '../../src/errors.js';
import { fromBytes, parseGGUFHeader } from '../../src/gguf/index.js';
import { Raw } from '../gguf/helpers.js';
import { edit } from './rewrite.js';

let base: Uint8Array;
beforeAll(async () => { base = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'bpe', seed: 5 }); }, 60_000);

async function errorOf(p: Promise<unknown>): Promise<BitnetError> {
  let err: unknown;
  try { const m = await p; (m as { dispose?: () => void })?.dispose?.(); } catch (e) { err = e; }
  expect(err, 'expected a BitnetError').toBeInstanceOf(BitnetError);
  return err as BitnetError;
}

describe('metadata memory budget', () => {
  it('a 12 MB file of empty nested arrays is refused while parsing (took 687 MB before)', async () => {
    const n = 1_000_000; // one key: an array of n empty u8 arrays, 12 bytes each
    const r = new Raw().u32(0x46554747).u32(3).u64(0).u64(1).str('k').u32(9).u32(9).u64(n);
    for (let i = 0; i < n; i++) r.u32(0).u64(0);
    const bytes = r.build();
    const e = await errorOf(parseGGUFHeader(fromBytes(bytes)));
    expect(e.code).toBe('BAD_GGUF');
    expect(e.message).toMatch(/the metadata would take more than \d+ MiB of memory/);
    expect(e.offset).toBeGreaterThan(24);
    expect(e.offset).toBeLessThan(bytes.length);
  });

  it('real files stay far inside it (the llama3 tokenizer: 128,256 tokens and 280,147 merges)', async () => {
    const bytes = await makeModel({ preset: 'tiny', ternaryType: 'TQ2_0', tokenizer: 'llama3', seed: 1 });
    const h = await parseGGUFHeader(fromBytes(bytes));
    expect((h.metadata.get('tokenizer.ggml.tokens')!.value as string[]).length).toBe(128256);
  });
});

describe('byte offsets on every error from file bytes', () => {
  const cases: [string, (p: Awaited<ReturnType<typeof import('./rewrite.js').split>>) => void, string, RegExp][] = [
    ['an unsupported pre-tokenizer', (p) => p.metadata.set('tokenizer.ggml.pre', { type: 'string', value: 'nonsense' }), 'tokenizer.ggml.pre', /unsupported pre-tokenizer/],
    ['merges that are not strings', (p) => p.metadata.set('tokenizer.ggml.merges', { type: 'array', itemType: 'u32', value: new Uint32Array(3) } as never), 'tokenizer.ggml.merges', /merges must be an array of strings/],
    ['a bad head count', (p) => p.metadata.set('bitnet.attention.head_count', { type: 'u32', value: 7 }), 'bitnet.attention.head_count', /not a multiple of head_count/],
    ['a missing block count', (p) => p.metadata.delete('bitnet.block_count'), '', /missing metadata key bitnet\.block_count/],
    ['an unsupported architecture', (p) => p.metadata.set('general.architecture', { type: 'string', value: 'gpt9' }), 'general.architecture', /architecture 'gpt9' is not supported/],
  ];
  for (const [name, f, key, message] of cases) {
    it(name, async () => {
      const bytes = await edit(base, f);
      const h = await parseGGUFHeader(fromBytes(bytes));
      const e = await errorOf(loadModel(bytes, { contextLength: 64 }));
      expect(e.code, e.message).toBe('BAD_GGUF');
      expect(e.message).toMatch(message);
      expect(typeof e.offset).toBe('number');
      if (key) expect(e.offset).toBe(h.metadataOffsets!.get(key));
      expect(e.message).toContain(`(at byte ${e.offset})`);
    });
  }
});
