// The handler behind Node's http through toNodeListener, over real sockets on 127.0.0.1: the
// malformed-request table again over HTTP (413 from Content-Length too), streamed events that
// arrive while the generation runs, and a client that drops its connection mid-stream, which
// stops the generation.
import { createServer, request as httpRequest, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/model/model.js';
import { createHandler } from '../../src/server/handler.js';
import { toNodeListener } from '../../src/server/node.js';
import { caseBody, MALFORMED } from './malformed.js';

let model: Model;
let server: Server;
let base: string;

beforeAll(async () => {
  model = await loadModel(new Uint8Array(readFileSync('models/default.gguf')));
  server = createServer(toNodeListener(createHandler({ model, modelId: 'default' })));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((ok) => server?.close(ok));
  model?.dispose();
});

const health = async () => (await (await fetch(`${base}/health`)).json());

describe('toNodeListener (Node http)', () => {
  it('answers every malformed request of the table with its status and error object', async () => {
    for (const c of MALFORMED) {
      const res = await fetch(base + (c.path ?? '/'), { method: c.method ?? 'POST', body: caseBody(c), headers: { 'content-type': 'application/json' } });
      const j = await res.json();
      expect({ name: c.name, status: res.status, ...j.error }).toEqual({ name: c.name, status: c.status, type: c.type, param: c.param, code: c.code, message: expect.stringMatching(c.message) });
    }
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('refuses a body over the limit from its Content-Length, and one sent chunked without it', async () => {
    const big = 'x'.repeat((1 << 20) + 1);
    const status = (headers: Record<string, string>) => new Promise<number>((ok, fail) => {
      const r = httpRequest(`${base}/v1/completions`, { method: 'POST', headers }, (res) => { res.resume(); ok(res.statusCode!); });
      r.on('error', fail);
      if (headers['content-length']) r.end(big);
      else { for (let i = 0; i < big.length; i += 65536) r.write(big.slice(i, i + 65536)); r.end(); }
    });
    expect(await status({ 'content-length': String(big.length) })).toBe(413);
    expect(await status({ 'transfer-encoding': 'chunked' })).toBe(413);
    expect((await fetch(`${base}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'x', max_tokens: 2 }) })).status).toBe(200);
  });

  it('streams events as they are generated, the same text as the non-streamed answer', async () => {
    const body = { prompt: 'The jury said', max_tokens: 30, temperature: 0.8, seed: 9 };
    const whole = (await (await fetch(`${base}/v1/completions`, { method: 'POST', body: JSON.stringify(body) })).json()).choices[0].text;
    const res = await fetch(`${base}/v1/completions`, { method: 'POST', body: JSON.stringify({ ...body, stream: true }) });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let raw = '', reads = 0;
    for (;;) { const { done, value } = await reader.read(); if (done) break; reads++; raw += dec.decode(value, { stream: true }); }
    expect(reads).toBeGreaterThan(3); // not one buffered body
    const data = raw.split('\n\n').filter(Boolean).map((e) => e.slice('data: '.length));
    expect(data.pop()).toBe('[DONE]');
    expect(data.map((d) => JSON.parse(d).choices[0].text).join('')).toBe(whole);
  });

  it('a client that drops the connection mid-stream stops its generation and frees the model', async () => {
    const before = (await health()).served;
    await new Promise<void>((ok, fail) => {
      const r = httpRequest(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let events = 0;
        res.on('data', (d: Buffer) => {
          events += d.toString().split('\n\n').length - 1;
          if (events >= 3) { r.destroy(); ok(); }
        });
      });
      r.on('error', (e) => { if (!r.destroyed) fail(e); });
      r.end(JSON.stringify({ prompt: 'The jury said', max_tokens: 250, temperature: 0, stream: true }));
    });
    for (let i = 0; i < 500 && (await health()).queue.running; i++) await new Promise((r) => setTimeout(r, 2));
    const after = await health();
    expect(after.queue).toEqual({ running: 0, waiting: 0, limit: 16 });
    expect(after.served.cancelled - before.cancelled).toBe(1);
    // Speed-independent: nothing is produced once the server has seen the disconnect (how much came
    // before depends on token speed; the request was stopped before its 250).
    expect(after.served.afterCancel).toBe(before.afterCancel);
    expect(after.served.textPieces - before.textPieces).toBeLessThan(250);
    await new Promise((r) => setTimeout(r, 50));
    expect((await health()).served.textPieces).toBe(after.served.textPieces); // nothing more after it stopped
  });
});
