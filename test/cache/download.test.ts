// download(): parallel Range requests delivered in order, retried on failures, with progress.
import { describe, expect, it } from 'vitest';
import { download } from '../../src/cache/download.js';
import { BitnetError } from '../../src/errors.js';
import { fakeServer, readAll } from './helpers.js';

const file = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 2654435761) >>> 24);
const URL_ = 'http://x.test/model.gguf';

describe('download', () => {
  it('fetches a file as parallel Range requests and delivers it in order, with progress up to its size', async () => {
    const srv = fakeServer(file);
    const progress: number[] = [];
    const d = await download(URL_, { fetch: srv.fetch, chunkBytes: 10_000, parallel: 3, onProgress: (p) => { expect(p.totalBytes).toBe(file.length); progress.push(p.loadedBytes); } });
    expect(d).toMatchObject({ size: file.length, ranges: true });
    expect(await readAll(d.body)).toEqual(file);
    expect(srv.log.map((l) => l.range)).toEqual(Array.from({ length: 11 }, (_, i) => `bytes=${i * 10_000}-${Math.min(i * 10_000 + 9999, file.length - 1)}`));
    expect(srv.maxInFlight).toBe(3);
    expect(progress.at(-1)).toBe(file.length);
    expect(progress.every((v, i) => i === 0 || v > progress[i - 1])).toBe(true);
  });

  it('retries network errors, 5xx/429 answers and short bodies, and still gives the exact file', async () => {
    const faults = ['throw', 503, 'short', 429, 500] as const;
    const srv = fakeServer(file, { fail: (range, attempt) => {
      const i = Number(/=(\d+)/.exec(range ?? '=0')![1]) / 10_000;
      return attempt === 0 ? faults[i % faults.length] : attempt === 1 && i % 3 === 0 ? 502 : undefined;
    } });
    const d = await download(URL_, { fetch: srv.fetch, chunkBytes: 10_000, parallel: 4, retryDelayMs: 1 });
    expect(await readAll(d.body)).toEqual(file);
    expect(srv.log.filter((l) => l.status !== 206).length).toBeGreaterThanOrEqual(11);
  });

  it('gives up on a range after its retries, naming it and the attempts', async () => {
    const srv = fakeServer(file, { fail: (range) => (range === 'bytes=20000-29999' ? 503 : undefined) });
    const d = await download(URL_, { fetch: srv.fetch, chunkBytes: 10_000, retries: 2, retryDelayMs: 1 });
    const err = await readAll(d.body).catch((e) => e);
    expect(err).toBeInstanceOf(BitnetError);
    expect(err.message).toMatch(/bytes 20000-29999\) failed after 3 attempts: .*HTTP 503/);
    expect(srv.log.filter((l) => l.range === 'bytes=20000-29999').length).toBe(3);
  });

  it('does not retry a 404', async () => {
    const srv = fakeServer(file, { fail: () => 404 });
    await expect(download(URL_, { fetch: srv.fetch, retryDelayMs: 1 })).rejects.toThrow(/HTTP 404/);
    expect(srv.log.length).toBe(1);
  });

  it('reads a server without Range support as one body', async () => {
    const srv = fakeServer(file, { ranges: false });
    let last = 0;
    const d = await download(URL_, { fetch: srv.fetch, chunkBytes: 10_000, onProgress: (p) => { last = p.loadedBytes; } });
    expect(d).toMatchObject({ size: file.length, ranges: false });
    expect(await readAll(d.body)).toEqual(file);
    expect(last).toBe(file.length);
    expect(srv.log.length).toBe(1);
  });

  it('an abort stops the download', async () => {
    const ac = new AbortController();
    const srv = fakeServer(file, { delayMs: 5 });
    const d = await download(URL_, { fetch: srv.fetch, chunkBytes: 10_000, parallel: 2, signal: ac.signal });
    const reader = d.body.getReader();
    await reader.read();
    ac.abort(new Error('stop'));
    await expect((async () => { for (;;) { const r = await reader.read(); if (r.done) return 'done'; } })()).rejects.toThrow('stop');
    const after = srv.log.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(srv.log.length).toBe(after);
    expect(after).toBeLessThan(11);
  });
});
