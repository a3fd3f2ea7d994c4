// `serve`: the OpenAI-compatible API (src/server) on Node's http.
import { createServer, type Server } from 'node:http';
import { basename } from 'node:path';
import { init } from '../init.js';
import { loadModel, type Model } from '../model/model.js';
import { createHandler, type ServerOptions } from '../server/handler.js';
import { toNodeListener } from '../server/node.js';
import { checkReadable } from './errors.js';
import { BUILD_OPTION, MODEL_OPTION, MODEL_POSITIONAL, modelFile, PROGRAM, THREADS_OPTION, type Command } from './common.js';

export interface RunningServer { url: string; server: Server; model: Model; close(): Promise<void> }

/** Loads the model and listens; resolves once the socket is bound. */
export async function startServe(o: { model: string; host?: string; port?: number; contextLength?: number; build?: 'simd128' | 'relaxed'; threads?: number } & Omit<ServerOptions, 'model'>): Promise<RunningServer> {
  await init({ build: o.build, threads: o.threads ?? 'auto' });
  const model = await loadModel(o.model, { contextLength: o.contextLength, threads: o.threads });
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

export const command: Command = {
  spec: {
    name: 'serve',
    summary: 'serve a model over an OpenAI-compatible HTTP API',
    description: 'Serves MODEL (default: the shipped model) over an OpenAI-compatible HTTP API:\n'
      + 'POST /v1/chat/completions, POST /v1/completions (stream: true for server-sent events),\n'
      + 'GET /v1/models, GET /health. One request generates at a time; others wait in a bounded queue.',
    positionals: [MODEL_POSITIONAL],
    options: [
      MODEL_OPTION,
      { name: 'host', kind: 'string', arg: 'ADDR', default: '127.0.0.1', help: 'address to listen on' },
      { name: 'port', kind: 'int', arg: 'N', min: 0, max: 65535, default: 8080, help: 'port; 0 = any free port, printed on start' },
      { name: 'ctx-size', short: 'c', aliases: ['ctx'], kind: 'int', arg: 'N', min: 1, max: 1 << 20, defaultText: "the model's trained context, at most 4096", help: 'context length' },
      { name: 'max-queue', kind: 'int', arg: 'N', min: 0, max: 1 << 20, default: 16, help: 'requests that may wait behind the running one; more get HTTP 429' },
      { name: 'max-tokens', kind: 'int', arg: 'N', min: 1, max: 1 << 24, default: 512, help: 'max_tokens when a request gives none' },
      { name: 'max-body', kind: 'int', arg: 'BYTES', min: 1, max: 1 << 30, default: 1048576, help: 'largest request body; larger ones get HTTP 413' },
      { name: 'alias', kind: 'string', arg: 'NAME', defaultText: 'the file name', help: 'model name in /v1/models' },
      { name: 'cors', kind: 'string', arg: 'ORIGIN', help: "send Access-Control-Allow-Origin: ORIGIN (e.g. '*')" },
      THREADS_OPTION,
      BUILD_OPTION,
    ],
    examples: [`${PROGRAM} serve model.gguf --port 8080`, `${PROGRAM} serve -t 2 --port 0`],
  },
  async run(v, io) {
    const model = modelFile(v);
    await checkReadable(model, 'model');
    const s = await startServe({
      model, host: v.host as string, port: v.port as number, contextLength: v['ctx-size'] as number | undefined,
      maxQueue: v['max-queue'] as number, defaultMaxTokens: v['max-tokens'] as number, maxBodyBytes: v['max-body'] as number,
      modelId: v.alias as string | undefined, cors: v.cors as string | undefined, build: v.build as 'simd128' | 'relaxed' | undefined,
      threads: v.threads as number | undefined,
    });
    io.out(`${PROGRAM}: serving ${model} (${s.model.config.architecture}, context ${s.model.contextLength}, ${s.model.threads} thread${s.model.threads > 1 ? 's' : ''}) on ${s.url}/v1`);
    await new Promise<void>((ok) => {
      const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); s.close().then(ok); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};
