/**
 * `serve`: the OpenAI-compatible API (src/server) on Node's http.
 *
 *   serve [MODEL] [-m MODEL] [--host 127.0.0.1] [--port 8080] [--ctx N] [...]
 */
import { createServer, type Server } from 'node:http';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { init } from '../init.js';
import { loadModel, type Model } from '../model/model.js';
import { createHandler, type ServerOptions } from '../server/handler.js';
import { toNodeListener } from '../server/node.js';
import type { CliIO } from './make-model.js';

const defaultIO: CliIO = { out: (l) => console.log(l), err: (l) => console.error(l) };

export const SERVE_USAGE = `usage: serve [MODEL] [-m MODEL] [--host 127.0.0.1] [--port 8080] [options]

Serves MODEL (default: the embedded model) over an OpenAI-compatible HTTP API:
POST /v1/chat/completions, POST /v1/completions (stream: true for server-sent events),
GET /v1/models, GET /health. One request generates at a time; others wait in a bounded queue.

options:
  -m, --model FILE      the GGUF file (or give it as the first argument)
  --host ADDR           address to listen on (default 127.0.0.1)
  --port N              port (default 8080; 0 = any free port, printed on start)
  --ctx N               context length (default: the model's, capped at 4096)
  --max-queue N         requests that may wait behind the running one (default 16); more get HTTP 429
  --max-tokens N        max_tokens when a request gives none (default 512)
  --max-body BYTES      largest request body (default 1048576); larger ones get HTTP 413
  --alias NAME          model name in /v1/models (default: the file name)
  --cors ORIGIN         send Access-Control-Allow-Origin: ORIGIN (e.g. '*')
  --build simd128|relaxed  force a wasm build
  -h, --help            this text`;

export interface RunningServer { url: string; server: Server; model: Model; close(): Promise<void> }

/** Loads the model and listens; resolves once the socket is bound. */
export async function startServe(o: { model: string; host?: string; port?: number; contextLength?: number; build?: 'simd128' | 'relaxed' } & Omit<ServerOptions, 'model'>): Promise<RunningServer> {
  await init({ build: o.build });
  const model = await loadModel(o.model, { contextLength: o.contextLength });
  const handler = createHandler({ ...o, model, modelId: o.modelId ?? basename(o.model).replace(/\.gguf$/i, '') });
  const server = createServer(toNodeListener(handler));
  try {
    await new Promise<void>((ok, fail) => { server.once('error', fail); server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => ok()); });
  } catch (e) {
    model.dispose();
    throw e;
  }
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : o.port;
  const host = (o.host ?? '127.0.0.1').includes(':') ? `[${o.host}]` : (o.host ?? '127.0.0.1');
  return {
    url: `http://${host}:${port}`, server, model,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => { model.dispose(); ok(); }); }),
  };
}

const intOpt = (name: string, v: string | undefined, lo: number, hi: number): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new Error(`--${name} must be an integer in ${lo}..${hi}, got ${JSON.stringify(v)}`);
  return Number(v);
};

export async function serveCommand(argv: string[], defaultModel: string, io: CliIO = defaultIO): Promise<number> {
  let opts: Parameters<typeof startServe>[0];
  try {
    const { values: v, positionals } = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        model: { type: 'string', short: 'm' }, host: { type: 'string' }, port: { type: 'string' }, ctx: { type: 'string' },
        'max-queue': { type: 'string' }, 'max-tokens': { type: 'string' }, 'max-body': { type: 'string' }, alias: { type: 'string' },
        cors: { type: 'string' }, build: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
    if (v.help) { io.out(SERVE_USAGE); return 0; }
    if (positionals.length > 1 || (positionals.length === 1 && v.model)) throw new Error('give the model once (MODEL or -m MODEL)');
    if (v.build !== undefined && v.build !== 'simd128' && v.build !== 'relaxed') throw new Error(`--build must be simd128 or relaxed, got ${JSON.stringify(v.build)}`);
    opts = {
      model: v.model ?? positionals[0] ?? defaultModel, host: v.host, port: intOpt('port', v.port, 0, 65535) ?? 8080,
      contextLength: intOpt('ctx', v.ctx, 1, 1 << 20), maxQueue: intOpt('max-queue', v['max-queue'], 0, 1 << 20),
      defaultMaxTokens: intOpt('max-tokens', v['max-tokens'], 1, 1 << 24), maxBodyBytes: intOpt('max-body', v['max-body'], 1, 1 << 30),
      modelId: v.alias, cors: v.cors, build: v.build as 'simd128' | 'relaxed' | undefined,
    };
  } catch (e) {
    io.err(`serve: ${e instanceof Error ? e.message : String(e)}`);
    io.err(SERVE_USAGE);
    return 2;
  }
  const s = await startServe(opts);
  io.out(`bitnet-wasm: serving ${opts.model} (${s.model.config.architecture}, context ${s.model.contextLength}) on ${s.url}/v1`);
  await new Promise<void>((ok) => {
    const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); s.close().then(ok); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
