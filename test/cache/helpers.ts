// A fake HTTP file server (as a fetch function) with Range support, injected failures and request
// accounting, and an in-memory CacheStorage: the download and cache logic without a network.
// (The real Cache API and a real server are exercised in Chromium by test/runtimes/browser-chat.mjs.)

export interface FakeServer {
  fetch: typeof fetch;
  /** Every request: its Range header (or null) and the status answered. */
  log: { range: string | null; status: number }[];
  /** Most requests in flight at once. */
  maxInFlight: number;
}

/** `fail(range, attempt)` may return a status to answer instead, 'throw' (a network error) or
 *  'short' (a body one byte short); attempt counts requests for that exact range from 0. */
export function fakeServer(file: Uint8Array, o: { ranges?: boolean; fail?: (range: string | null, attempt: number) => number | 'throw' | 'short' | undefined; delayMs?: number } = {}): FakeServer {
  const attempts = new Map<string, number>();
  let inFlight = 0;
  const s: FakeServer = {
    log: [], maxInFlight: 0,
    fetch: (async (_url: string, init?: RequestInit) => {
      inFlight++;
      s.maxInFlight = Math.max(s.maxInFlight, inFlight);
      try {
        await new Promise((r) => setTimeout(r, o.delayMs ?? 1));
        init?.signal?.throwIfAborted();
        const range = new Headers(init?.headers).get('range');
        const key = range ?? '';
        const attempt = attempts.get(key) ?? 0;
        attempts.set(key, attempt + 1);
        const f = o.fail?.(range, attempt);
        if (f === 'throw') { s.log.push({ range, status: 0 }); throw new TypeError('fetch failed (injected)'); }
        if (typeof f === 'number') { s.log.push({ range, status: f }); return new Response('injected', { status: f }); }
        if (range && o.ranges !== false) {
          const m = /^bytes=(\d+)-(\d+)$/.exec(range)!;
          const a = Number(m[1]), b = Math.min(Number(m[2]), file.length - 1);
          let body = file.slice(a, b + 1);
          if (f === 'short') body = body.slice(0, -1);
          s.log.push({ range, status: 206 });
          return new Response(body, { status: 206, headers: { 'content-range': `bytes ${a}-${b}/${file.length}` } });
        }
        s.log.push({ range, status: 200 });
        return new Response(file.slice(), { status: 200, headers: { 'content-length': String(file.length) } });
      } finally {
        inFlight--;
      }
    }) as typeof fetch,
  };
  return s;
}

/** An in-memory CacheStorage with the parts of the Cache API the model cache uses. */
export function fakeCacheStorage(): CacheStorage & { puts: number } {
  const caches = new Map<string, Map<string, { body: Uint8Array; headers: [string, string][] }>>();
  const key = (r: RequestInfo | URL) => (typeof r === 'string' ? r : r instanceof URL ? r.href : r.url);
  const storage = {
    puts: 0,
    async open(name: string) {
      if (!caches.has(name)) caches.set(name, new Map());
      const m = caches.get(name)!;
      return {
        async match(r: RequestInfo | URL) { const e = m.get(key(r)); return e ? new Response(e.body.slice(), { headers: e.headers }) : undefined; },
        async put(r: RequestInfo | URL, res: Response) { storage.puts++; m.set(key(r), { body: new Uint8Array(await res.arrayBuffer()), headers: [...res.headers] }); },
        async delete(r: RequestInfo | URL) { return m.delete(key(r)); },
        async keys() { return [...m.keys()].map((u) => new Request(u)); },
      } as unknown as Cache;
    },
    /** Test hook: replace a stored body (e.g. truncate it). */
    async _corrupt(name: string, url: string, f: (b: Uint8Array) => Uint8Array) { const e = caches.get(name)!.get(url)!; e.body = f(e.body); },
  };
  return storage as unknown as CacheStorage & { puts: number };
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
