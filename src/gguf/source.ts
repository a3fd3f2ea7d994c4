/**
 * Where GGUF bytes come from. The reader pulls ranges from a ByteSource, so a multi-gigabyte model
 * never has to sit in one JS buffer: tensor data can go chunk by chunk into wasm memory.
 */
import { BitnetError } from '../errors.js';

export interface ByteSource {
  /**
   * Bytes [offset, offset + length). Returns fewer bytes only at the end of the data. The returned
   * array may be a view into the source's memory: copy it if you keep it past the next read.
   * Sequential sources accept offsets that never go below the previous read's offset.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: reads bytes [offset, offset + dest.length) straight into dest (e.g. a view of wasm
   * memory), with no buffer in between; resolves to the count read (fewer only at the end of the
   * data). Only random-access sources have it. dest must stay valid until the promise settles.
   */
  readInto?(offset: number, dest: Uint8Array): Promise<number>;
  /** Total size when known up front; lets the reader reject impossible counts before reading. */
  readonly size?: number;
  /** True when reads must move forward (streams, servers without Range support). */
  readonly sequential?: boolean;
  close?(): Promise<void>;
}

function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new BitnetError('BAD_ARGUMENT', `bad read range offset=${offset} length=${length}`);
  }
}

/** In-memory bytes: reads are zero-copy views. */
export function fromBytes(data: Uint8Array | ArrayBuffer): ByteSource {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  return {
    size: bytes.length,
    async read(offset, length) {
      checkRange(offset, length);
      return bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
    },
    async readInto(offset, dest) {
      checkRange(offset, dest.length);
      const part = bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + dest.length, bytes.length));
      dest.set(part);
      return part.length;
    },
  };
}

/** A Blob or File (browsers, Node >= 18): slices are read lazily. */
export function fromBlob(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset, length) {
      checkRange(offset, length);
      const end = Math.min(offset + length, blob.size);
      if (offset >= end) return new Uint8Array(0);
      return new Uint8Array(await blob.slice(offset, end).arrayBuffer());
    },
  };
}

/** A file on disk (Node, Deno, Bun), read by ranges through a FileHandle. Call close() when done. */
export async function fromFile(path: string): Promise<ByteSource> {
  // Dynamic import keeps this module loadable in browsers and workerd.
  const fs = await import('node:fs/promises');
  const fh = await fs.open(path, 'r');
  const size = (await fh.stat()).size;
  let closed = false;
  const readInto = async (offset: number, dest: Uint8Array): Promise<number> => {
    checkRange(offset, dest.length);
    if (closed) throw new BitnetError('BAD_ARGUMENT', 'file source is closed');
    const n = Math.max(0, Math.min(dest.length, size - offset));
    let got = 0;
    while (got < n) {
      const { bytesRead } = await fh.read(dest, got, n - got, offset + got);
      if (bytesRead === 0) break; // file shrank under us: report as short read
      got += bytesRead;
    }
    return got;
  };
  return {
    size,
    async read(offset, length) {
      checkRange(offset, length);
      if (closed) throw new BitnetError('BAD_ARGUMENT', 'file source is closed');
      // Clamp first: the buffer is allocated before reading, so never size it from a wild length.
      const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      const got = await readInto(offset, buf);
      return got === buf.length ? buf : buf.subarray(0, got);
    },
    readInto,
    async close() {
      if (!closed) {
        closed = true;
        await fh.close();
      }
    },
  };
}

/**
 * A ReadableStream of bytes, read once front to back. Keeps only the bytes at or after the last
 * requested offset, so memory stays at about one read's worth.
 */
export function fromStream(stream: ReadableStream<Uint8Array>, size?: number): ByteSource {
  const reader = stream.getReader();
  let chunks: Uint8Array[] = [];
  let bufStart = 0; // absolute offset of chunks[0][0]
  let buffered = 0;
  let done = false;
  let lastOffset = 0;

  async function pull(): Promise<boolean> {
    if (done) return false;
    const r = await reader.read();
    if (r.done) {
      done = true;
      return false;
    }
    if (r.value && r.value.length) {
      chunks.push(r.value);
      buffered += r.value.length;
    }
    return true;
  }

  function dropBefore(offset: number): void {
    while (chunks.length && bufStart + chunks[0].length <= offset) {
      bufStart += chunks[0].length;
      buffered -= chunks[0].length;
      chunks.shift();
    }
  }

  return {
    size,
    sequential: true,
    async read(offset, length) {
      checkRange(offset, length);
      if (offset < lastOffset) {
        throw new BitnetError('BAD_ARGUMENT', `sequential source cannot seek back from ${lastOffset} to ${offset}`);
      }
      lastOffset = offset;
      dropBefore(offset);
      // Skip forward without keeping anything before `offset`.
      while (bufStart + buffered <= offset && (await pull())) dropBefore(offset);
      while (bufStart + buffered < offset + length && (await pull()));
      const avail = Math.max(0, Math.min(offset + length, bufStart + buffered) - offset);
      const out = new Uint8Array(avail);
      let pos = bufStart;
      let w = 0;
      for (const c of chunks) {
        const from = Math.max(offset, pos);
        const to = Math.min(offset + avail, pos + c.length);
        if (to > from) {
          out.set(c.subarray(from - pos, to - pos), w);
          w += to - from;
        }
        pos += c.length;
        if (pos >= offset + avail) break;
      }
      return out;
    },
    async close() {
      chunks = [];
      buffered = 0;
      done = true;
      await reader.cancel().catch(() => undefined);
    },
  };
}

export interface UrlSourceOptions {
  /** fetch to use (tests, auth wrappers); defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * A URL. Uses HTTP Range requests when the server honours them (206 + Content-Range); when it
 * answers 200 with the whole body, falls back to streaming that body sequentially.
 */
export function fromUrl(url: string | URL, options: UrlSourceOptions = {}): ByteSource {
  const doFetch = options.fetch ?? globalThis.fetch;
  let mode: 'unknown' | 'range' | 'stream' = 'unknown';
  let stream: ByteSource | null = null;
  let size: number | undefined;

  const src: ByteSource & { size?: number; sequential?: boolean } = {
    get size() {
      return size;
    },
    get sequential() {
      return mode === 'stream';
    },
    async read(offset, length) {
      checkRange(offset, length);
      if (mode === 'stream') return stream!.read(offset, length);
      if (length === 0) return new Uint8Array(0);
      if (size !== undefined && offset >= size) return new Uint8Array(0);
      const end = size !== undefined ? Math.min(offset + length, size) : offset + length;
      const res = await doFetch(url, {
        headers: { ...options.headers, Range: `bytes=${offset}-${end - 1}` },
        signal: options.signal,
      }).catch((e: Error) => {
        // A network failure is a TypeError from fetch(); an abort stays the caller's AbortError.
        if (e?.name === 'AbortError' || e instanceof BitnetError) throw e;
        throw new BitnetError('BAD_ARGUMENT', `fetch ${String(url)} failed: ${e?.message ?? String(e)}`, { cause: e });
      });
      if (res.status === 206) {
        mode = 'range';
        const cr = res.headers.get('content-range');
        const m = cr ? /\/(\d+)\s*$/.exec(cr) : null;
        if (m) size = Number(m[1]);
        return new Uint8Array(await res.arrayBuffer());
      }
      if (res.status === 416) {
        return new Uint8Array(0); // range starts past the end
      }
      if (res.status === 200 && mode === 'unknown' && res.body) {
        // Server ignored Range: stream the full body from offset 0.
        mode = 'stream';
        const len = res.headers.get('content-length');
        if (len && /^\d+$/.test(len)) size = Number(len);
        stream = fromStream(res.body, size);
        return stream.read(offset, length);
      }
      await res.body?.cancel().catch(() => undefined);
      throw new BitnetError('BAD_ARGUMENT', `fetch ${String(url)} failed: HTTP ${res.status}`);
    },
    async close() {
      await stream?.close?.();
    },
  };
  return src;
}

/** Accepts anything the reader can read from. */
export type GGUFInput = ByteSource | Uint8Array | ArrayBuffer | Blob;

export function toByteSource(input: GGUFInput): ByteSource {
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) return fromBytes(input);
  if (typeof Blob !== 'undefined' && input instanceof Blob) return fromBlob(input);
  if (input && typeof (input as ByteSource).read === 'function') return input as ByteSource;
  throw new BitnetError('BAD_ARGUMENT', 'expected a ByteSource, Uint8Array, ArrayBuffer or Blob');
}
