// Downloading a model file fast and reliably: parallel HTTP Range requests (a few chunks in flight,
// delivered in order as one stream, so memory stays at about `parallel` chunks), each retried with
// backoff on network errors, 5xx and 429; a server without Range support is read as one body.
import { BitnetError } from '../errors.js';

export interface DownloadOptions {
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Bytes per Range request (default 8 MiB). */
  chunkBytes?: number;
  /** Range requests in flight (default 4). */
  parallel?: number;
  /** Further attempts per request after a failure (default 3). */
  retries?: number;
  /** First retry delay in ms, doubled per attempt (default 250). */
  retryDelayMs?: number;
  onProgress?: (p: { loadedBytes: number; totalBytes: number }) => void;
}

export interface Download {
  /** The file's size (from Content-Range or Content-Length; undefined when the server says neither). */
  size: number | undefined;
  /** Whether the server honoured Range requests. */
  ranges: boolean;
  /** The file, in order. */
  body: ReadableStream<Uint8Array>;
}

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok, fail) => {
    if (signal?.aborted) { fail(signal.reason); return; }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); ok(); }, ms);
    const onAbort = () => { clearTimeout(t); fail(signal!.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** fetch with retries: network errors and retryable statuses are tried again; `accept` checks the
 *  response (and may throw a non-retryable BitnetError). */
async function fetchRetrying<T>(url: string, init: RequestInit, o: DownloadOptions, what: string, accept: (r: Response) => Promise<T>): Promise<T> {
  const doFetch = o.fetch ?? globalThis.fetch;
  const retries = o.retries ?? 3;
  let last: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep((o.retryDelayMs ?? 250) * 2 ** (attempt - 1), o.signal);
    try {
      const res = await doFetch(url, { ...init, signal: o.signal });
      if (RETRY_STATUS.has(res.status)) {
        await res.body?.cancel().catch(() => undefined);
        last = new BitnetError('BAD_ARGUMENT', `fetch ${url} (${what}) failed: HTTP ${res.status}`);
        continue;
      }
      return await accept(res);
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      if (e instanceof BitnetError && !(e as BitnetError & { retry?: boolean }).retry) throw e;
      last = e;
    }
  }
  throw new BitnetError('BAD_ARGUMENT', `fetch ${url} (${what}) failed after ${retries + 1} attempts: ${(last as Error)?.message ?? last}`, { cause: last });
}

const retryable = (message: string) => Object.assign(new BitnetError('TRUNCATED', message), { retry: true });

/** Starts downloading `url`. Progress counts bytes received, in whatever order chunks arrive. */
export async function download(url: string, opts: DownloadOptions = {}): Promise<Download> {
  // One controller for every request of this download: cancelling the body stops those in flight.
  const ac = new AbortController();
  const outer = opts.signal;
  if (outer?.aborted) throw outer.reason;
  outer?.addEventListener('abort', () => ac.abort(outer.reason), { once: true });
  const o = { ...opts, signal: ac.signal };
  const chunk = o.chunkBytes ?? 8 << 20;
  const parallel = Math.max(1, o.parallel ?? 4);
  if (!Number.isInteger(chunk) || chunk < 1) throw new BitnetError('BAD_ARGUMENT', `chunkBytes must be a positive integer, got ${chunk}`);
  let loaded = 0;
  const progress = (n: number, total: number | undefined) => { loaded += n; o.onProgress?.({ loadedBytes: loaded, totalBytes: total ?? 0 }); };

  // The first request asks for the first chunk as a range: a 206 tells the size and that ranges work.
  const first = await fetchRetrying(url, { headers: { ...o.headers, Range: `bytes=0-${chunk - 1}` } }, o, 'first range', async (res) => {
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel().catch(() => undefined);
      throw new BitnetError('BAD_ARGUMENT', `fetch ${url} failed: HTTP ${res.status}`);
    }
    if (res.status === 200) return { res, size: undefined as number | undefined, bytes: null as Uint8Array | null };
    const m = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
    if (!m) { await res.body?.cancel().catch(() => undefined); throw new BitnetError('BAD_ARGUMENT', `fetch ${url}: a 206 answer without a Content-Range size`); }
    const bytes = new Uint8Array(await res.arrayBuffer());
    const size = Number(m[1]);
    if (bytes.length !== Math.min(chunk, size)) throw retryable(`range 0-${chunk - 1} of ${url} gave ${bytes.length} bytes`);
    return { res, size, bytes };
  });

  if (!first.bytes) {
    // No Range support: the body as it comes, counted.
    const len = first.res.headers.get('content-length');
    const size = len && /^\d+$/.test(len) ? Number(len) : undefined;
    const reader = first.res.body!.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) { c.close(); return; }
        progress(value.length, size);
        c.enqueue(value);
      },
      cancel(reason) { ac.abort(reason); return reader.cancel(reason).catch(() => undefined); },
    });
    return { size, ranges: false, body };
  }

  const size = first.size!;
  progress(first.bytes.length, size);
  const starts: number[] = [];
  for (let s = chunk; s < size; s += chunk) starts.push(s);
  const getChunk = (start: number) => {
    const end = Math.min(start + chunk, size);
    return fetchRetrying(url, { headers: { ...o.headers, Range: `bytes=${start}-${end - 1}` } }, o, `bytes ${start}-${end - 1}`, async (res) => {
      if (res.status !== 206) {
        await res.body?.cancel().catch(() => undefined);
        throw new BitnetError('BAD_ARGUMENT', `fetch ${url}: expected 206 for bytes ${start}-${end - 1}, got HTTP ${res.status}`);
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.length !== end - start) throw retryable(`bytes ${start}-${end - 1} of ${url} gave ${bytes.length} bytes`);
      progress(bytes.length, size);
      return bytes;
    });
  };
  // A window of `parallel` chunk requests; the stream hands them out in file order.
  const inFlight: Promise<Uint8Array>[] = [];
  let next = 0;
  const fill = () => { while (inFlight.length < parallel && next < starts.length) { const p = getChunk(starts[next++]); p.catch(() => undefined); inFlight.push(p); } };
  let sentFirst = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (!sentFirst) { sentFirst = true; fill(); c.enqueue(first.bytes!); return; }
      const p = inFlight.shift();
      if (!p) { c.close(); return; }
      const bytes = await p;
      fill(); // after the head is done: never more than `parallel` requests in flight
      c.enqueue(bytes);
    },
    cancel(reason) { ac.abort(reason); inFlight.length = 0; },
  }, { highWaterMark: 0 });
  return { size, ranges: true, body };
}
