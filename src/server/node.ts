// Node's http (and Deno's / Bun's node:http) in front of a Fetch handler: IncomingMessage ->
// Request (body streamed with backpressure, an AbortSignal that fires when the client goes away),
// Response -> ServerResponse (chunks written as they come, so server-sent events flush). Typed
// structurally so that this file imports nothing from node: and bundles for every target.
import type { FetchHandler } from './handler.js';

/** The parts of http.IncomingMessage used here. */
export interface NodeRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  on(event: 'data', fn: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'close', fn: () => void): unknown;
  on(event: 'error', fn: (e: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(e?: Error): unknown;
}

/** The parts of http.ServerResponse used here. */
export interface NodeResponse {
  writeHead(status: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  once(event: 'drain' | 'close', fn: () => void): unknown;
  off(event: 'drain' | 'close', fn: () => void): unknown;
  on(event: 'close', fn: () => void): unknown;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  flushHeaders?(): void;
}

/** The Request, and a function that discards what is left of the body (call it once answered:
 *  a body nobody reads would stall the client, which then sees its connection reset). */
function toRequest(req: NodeRequest, signal: AbortSignal): { request: Request; drain: () => void } {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  const method = req.method ?? 'GET';
  let url: string;
  try { url = new URL(req.url ?? '/', `http://${headers.get('host') ?? 'localhost'}`).href; } catch { url = new URL(req.url ?? '/', 'http://localhost').href; }
  let body: ReadableStream<Uint8Array> | null = null;
  let cancelled = false;
  if (method !== 'GET' && method !== 'HEAD') {
    body = new ReadableStream<Uint8Array>({
      start(c) {
        req.on('data', (chunk) => {
          if (cancelled) return;
          c.enqueue(new Uint8Array(chunk)); // a copy: the chunk's memory may be reused
          if ((c.desiredSize ?? 1) <= 0) req.pause();
        });
        req.on('end', () => { if (!cancelled) try { c.close(); } catch { /* errored */ } });
        req.on('error', (e) => { if (!cancelled) try { c.error(e); } catch { /* closed */ } });
      },
      pull() { req.resume(); },
      cancel() { cancelled = true; req.resume(); }, // let the rest drain; the response is sent anyway
    }, { highWaterMark: 4 });
  }
  const request = new Request(url, { method, headers, body, signal, duplex: 'half' } as RequestInit);
  return { request, drain: () => { cancelled = true; req.resume(); } };
}

/** `http.createServer(toNodeListener(handler))`. A client that disconnects aborts its request's
 *  signal and cancels the response stream, which stops its generation. */
export function toNodeListener(handler: FetchHandler): (req: NodeRequest, res: NodeResponse) => void {
  return (req, res) => {
    const ac = new AbortController();
    res.on('close', () => { if (!res.writableFinished) ac.abort(new DOMException('the client closed the connection', 'AbortError')); });
    (async () => {
      let response: Response;
      const { request, drain } = toRequest(req, ac.signal);
      try {
        response = await handler(request);
      } catch (e) { // a handler from createHandler never throws; others might
        response = new Response(JSON.stringify({ error: { message: String((e as Error)?.message ?? e), type: 'server_error', param: null, code: 'internal_error' } }),
          { status: 500, headers: { 'content-type': 'application/json' } });
      }
      if (res.destroyed) { await response.body?.cancel().catch(() => undefined); return; }
      const headers: Record<string, string | string[]> = {};
      response.headers.forEach((v, k) => { headers[k] = k === 'set-cookie' ? [...((headers[k] as string[]) ?? []), v] : v; });
      res.writeHead(response.status, headers);
      if (!response.body) { res.end(); drain(); return; }
      res.flushHeaders?.();
      const reader = response.body.getReader();
      const stop = () => { reader.cancel().catch(() => undefined); };
      res.once('close', stop); // the client left mid-stream: cancel, which aborts the generation
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (res.destroyed) break;
          if (!res.write(value)) {
            await new Promise<void>((ok) => {
              const go = () => { res.off('drain', go); res.off('close', go); ok(); };
              res.once('drain', go); res.once('close', go);
            });
          }
        }
      } catch { /* the stream was cancelled because the client left */ }
      if (!res.destroyed) res.end();
      drain(); // whatever the handler did not read
    })().catch(() => { if (!res.destroyed) res.end(); });
  };
}
