// Model files kept in the browser's Cache API (as transformers.js and web-llm keep theirs): the
// first loadModel(url, { cache: true }) downloads the file (parallel Range requests, download.ts)
// and streams it into the cache; later loads read it from there without the network.
import { BitnetError } from '../errors.js';
import { fromBlob, fromUrl, type ByteSource } from '../gguf/source.js';
import { download, type DownloadOptions } from './download.js';

/** The Cache API cache that holds model files. */
export const MODEL_CACHE = 'bitnet-wasm-models';

export interface CachedModel { url: string; bytes: number; cachedAt: string }

export interface ModelCacheOptions extends Omit<DownloadOptions, 'onProgress' | 'signal'> {
  /** Cache name (default 'bitnet-wasm-models'). */
  name?: string;
}

export type CacheProgress = { phase: 'download' | 'cache'; loadedBytes: number; totalBytes: number };

const SIZE = 'x-bitnet-wasm-size', WHEN = 'x-bitnet-wasm-cached-at';

function cacheStorage(): CacheStorage | null {
  const c = (globalThis as { caches?: CacheStorage }).caches;
  return c && typeof c.open === 'function' ? c : null;
}

function open(name = MODEL_CACHE): Promise<Cache> {
  const c = cacheStorage();
  if (!c) throw new BitnetError('BAD_ARGUMENT', 'the Cache API is not available here (a browser page or worker in a secure context has it: https, localhost or 127.0.0.1)');
  return c.open(name);
}

/** The model files in the cache, with their sizes and when they were stored. */
export async function listCachedModels(opts: { name?: string } = {}): Promise<CachedModel[]> {
  const cache = await open(opts.name);
  const out: CachedModel[] = [];
  for (const req of await cache.keys()) {
    const res = await cache.match(req);
    if (res) out.push({ url: req.url, bytes: Number(res.headers.get(SIZE)), cachedAt: res.headers.get(WHEN) ?? '' });
  }
  return out;
}

/** Removes a model file from the cache; true if it was there. */
export async function deleteCachedModel(url: string | URL, opts: { name?: string } = {}): Promise<boolean> {
  return (await open(opts.name)).delete(String(url));
}

const entry = (body: BodyInit, size: number) => new Response(body, { headers: { 'content-type': 'application/octet-stream', [SIZE]: String(size), [WHEN]: new Date().toISOString() } });

/** The file at `url` from the cache, downloaded and stored first when it is not there. An entry
 *  whose size is not the one recorded is dropped and downloaded again. */
export async function openCachedModel(url: string, o: ModelCacheOptions & { signal?: AbortSignal; onProgress?: (p: CacheProgress) => void } = {}): Promise<{ source: ByteSource; fromCache: boolean }> {
  const cache = await open(o.name);
  const hit = await cache.match(url);
  if (hit) {
    const blob = await hit.blob();
    if (blob.size === Number(hit.headers.get(SIZE))) {
      o.onProgress?.({ phase: 'cache', loadedBytes: blob.size, totalBytes: blob.size });
      return { source: fromBlob(blob), fromCache: true };
    }
    await cache.delete(url);
  }
  const d = await download(url, { ...o, onProgress: (p) => o.onProgress?.({ phase: 'download', ...p }) });
  // Streamed into the cache (memory stays at the chunks in flight), then read back as a Blob.
  await cache.put(url, entry(d.body, d.size ?? -1));
  const stored = await cache.match(url);
  if (!stored) throw new BitnetError('BAD_ARGUMENT', `the Cache API did not keep ${url}`);
  const blob = await stored.blob();
  if (d.size === undefined) await cache.put(url, entry(blob, blob.size)); // size learnt only now
  else if (blob.size !== d.size) {
    await cache.delete(url);
    throw new BitnetError('TRUNCATED', `downloaded ${blob.size} bytes of ${url}, expected ${d.size}`);
  }
  return { source: fromBlob(blob), fromCache: false };
}

/** loadModel's `cache` option: the cached file, or, where there is no Cache API or it refuses the
 *  file (storage quota), the network with a warning. */
export async function cachedUrlSource(url: string, o: ModelCacheOptions & { signal?: AbortSignal; onProgress?: (p: CacheProgress) => void; onWarning?: (m: string) => void }): Promise<ByteSource> {
  const warn = o.onWarning ?? console.warn;
  if (!cacheStorage()) {
    warn('loadModel({ cache: true }): the Cache API is not available here (it needs a secure context); loading from the network without caching');
    return fromUrl(url, { signal: o.signal });
  }
  try {
    return (await openCachedModel(url, o)).source;
  } catch (e) {
    if ((e as Error)?.name !== 'QuotaExceededError') throw e;
    await deleteCachedModel(url, o).catch(() => false);
    warn(`loadModel({ cache: true }): the browser's storage quota does not hold ${url}; loading from the network without caching`);
    return fromUrl(url, { signal: o.signal });
  }
}
