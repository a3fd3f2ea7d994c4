// The model cache's logic on an in-memory CacheStorage and a fake server: first load downloads
// and stores, the next reads the cache without a request, list/delete manage it, a damaged entry
// is downloaded again, and loadModel(url, { cache: true }) gives the same model as from bytes.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deleteCachedModel, listCachedModels, MODEL_CACHE, openCachedModel } from '../../src/cache/model-cache.js';
import { loadModel, type ModelLoadProgress } from '../../src/model/model.js';
import { fakeCacheStorage, fakeServer } from './helpers.js';

const file = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 7 + (i >> 8)) & 255);
const URL_ = 'http://x.test/m.gguf';
const read = async (s: { read(o: number, n: number): Promise<Uint8Array>; size?: number }) => s.read(0, s.size!);

afterEach(() => vi.unstubAllGlobals());

describe('model cache (Cache API)', () => {
  it('downloads once, then serves the file from the cache without a request; list and delete manage it', async () => {
    const caches = fakeCacheStorage();
    vi.stubGlobal('caches', caches);
    const srv = fakeServer(file);
    const phases: string[] = [];
    const a = await openCachedModel(URL_, { fetch: srv.fetch, chunkBytes: 8192, onProgress: (p) => phases.push(p.phase) });
    expect(a.fromCache).toBe(false);
    expect(await read(a.source)).toEqual(file);
    expect(srv.log.length).toBe(Math.ceil(file.length / 8192));
    expect(new Set(phases)).toEqual(new Set(['download']));

    const b = await openCachedModel(URL_, { fetch: srv.fetch, onProgress: (p) => phases.push(p.phase) });
    expect(b.fromCache).toBe(true);
    expect(await read(b.source)).toEqual(file);
    expect(srv.log.length).toBe(Math.ceil(file.length / 8192)); // no new request
    expect(phases.at(-1)).toBe('cache');

    expect(await listCachedModels()).toEqual([{ url: URL_, bytes: file.length, cachedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);
    expect(await deleteCachedModel(URL_)).toBe(true);
    expect(await deleteCachedModel(URL_)).toBe(false);
    expect(await listCachedModels()).toEqual([]);
    expect((await openCachedModel(URL_, { fetch: srv.fetch })).fromCache).toBe(false);
  });

  it('a cached entry of the wrong size is dropped and downloaded again; a server without ranges is cached with its real size', async () => {
    const caches = fakeCacheStorage() as ReturnType<typeof fakeCacheStorage> & { _corrupt: (n: string, u: string, f: (b: Uint8Array) => Uint8Array) => Promise<void> };
    vi.stubGlobal('caches', caches);
    const srv = fakeServer(file, { ranges: false });
    await openCachedModel(URL_, { fetch: srv.fetch });
    expect(await listCachedModels()).toEqual([expect.objectContaining({ bytes: file.length })]);
    await caches._corrupt(MODEL_CACHE, URL_, (b) => b.slice(0, 1000));
    const again = await openCachedModel(URL_, { fetch: srv.fetch });
    expect(again.fromCache).toBe(false);
    expect(await read(again.source)).toEqual(file);
    expect(srv.log.length).toBe(2);
  });

  it('without a Cache API, loadModel({ cache: true }) warns and loads from the network', async () => {
    const bytes = new Uint8Array(readFileSync('models/default.gguf'));
    vi.stubGlobal('fetch', fakeServer(bytes).fetch);
    const warnings: string[] = [];
    const m = await loadModel('http://x.test/default.gguf', { cache: true, onWarning: (w) => warnings.push(w) });
    expect(warnings.join('\n')).toMatch(/Cache API is not available/);
    m.dispose();
  });

  it('loadModel(url, { cache: true }) loads the same model from the network, then from the cache, with progress phases', async () => {
    const bytes = new Uint8Array(readFileSync('models/default.gguf'));
    const srv = fakeServer(bytes);
    vi.stubGlobal('caches', fakeCacheStorage());
    vi.stubGlobal('fetch', srv.fetch);
    const ref = await loadModel(bytes);
    const want = (await ref.generate('The jury said', { maxTokens: 12, temperature: 0.7, seed: 2 })).text;
    ref.dispose();
    for (const expectPhase of ['download', 'cache']) {
      const seen: ModelLoadProgress[] = [];
      const m = await loadModel('http://x.test/default.gguf', { cache: { chunkBytes: 1 << 18, parallel: 3 }, onProgress: (p) => seen.push(p) });
      expect((await m.generate('The jury said', { maxTokens: 12, temperature: 0.7, seed: 2 })).text).toBe(want);
      m.dispose();
      expect(seen[0].phase).toBe(expectPhase);
      expect(seen.filter((p) => p.phase === expectPhase).at(-1)).toMatchObject({ loadedBytes: bytes.length, totalBytes: bytes.length });
      expect(seen.at(-1)!.phase).toBe('load');
    }
    expect(srv.log.length).toBe(Math.ceil(bytes.length / (1 << 18)));
  });
});
