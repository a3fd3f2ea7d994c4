// The engine side of a worker model: serveEngine(self) in a worker answers the calls of proxy.ts.
// It holds the models, sequences and chat sessions by handle and runs each call on them; every
// call given an AbortSignal on the page gets one of its own here, fired by an 'abort' message (the
// engine then yields between tokens, as in a page, so that message gets in). Streams run ahead of
// the page by at most the credit the page gave (and wait for more between pieces).
import { BitnetError } from '../errors.js';
import { init, kernelInfo, type InitOptions } from '../init.js';
import { loadModel, type Model } from '../model/model.js';
import type { DecodeChoice } from '../calibrate.js';
import type { Sequence } from '../model/sequence.js';
import type { ChatSession } from '../model/chat-session.js';
import { CALLBACK, FILE_URL, SIGNAL, toWire, transferables, type FromWorker, type MessageEndpoint, type ToWorker } from './protocol.js';

type Kind = 'model' | 'sequence' | 'chat';
/** How a method answers: a value, a new handle, a stream of values, a property read. */
type Shape = 'call' | 'handle' | 'iter' | 'get';

/** The methods the page may call, per kind of object (anything else is refused). */
export const METHODS: Record<Kind, Record<string, Shape>> = {
  model: {
    tokenize: 'call', detokenize: 'call', logits: 'call', perplexity: 'call', bench: 'call', generate: 'call', chat: 'call',
    applyChatTemplate: 'call', stream: 'iter', generateTokens: 'iter', createSequence: 'handle', createChat: 'handle', byteLength: 'get', dispose: 'call',
  },
  sequence: { generate: 'call', chat: 'call', logits: 'call', clear: 'call', stream: 'iter', generateTokens: 'iter', tokens: 'get', dispose: 'call' },
  chat: { send: 'call', messages: 'get', dispose: 'call' },
};

/** What the page learns about a model when it loads (read once; the model does not change). */
export interface LoadedModelInfo {
  contextLength: number; batchSize: number; cacheType: 'f32' | 'f16';
  kernel: string; gemmKernel: string; config: unknown; chatTemplate: string | null;
  threads: number; decodeChoice: DecodeChoice;
}

export function serveEngine(port: MessageEndpoint): void {
  const handles = new Map<number, { kind: Kind; obj: Model | Sequence | ChatSession }>();
  let nextHandle = 1;
  const aborts = new Map<number, AbortController>();
  const credits = new Map<number, { n: number; wake?: () => void; returned: boolean }>();
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

  const addHandle = (kind: Kind, obj: Model | Sequence | ChatSession) => { handles.set(nextHandle, { kind, obj }); return nextHandle++; };

  /** Markers back into what they stand for: callbacks post events, the signal is this call's.
   *  Only an argument itself or a field of an options argument can be one. */
  const revive = (id: number, v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return v; // arrays, bytes, Blob, Map, ...
    const o = v as Record<string, unknown>;
    if (FILE_URL in o) return new URL(o[FILE_URL] as string);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      const m = x !== null && typeof x === 'object' ? x as Record<string, unknown> : null;
      out[k] = m && CALLBACK in m ? (...args: unknown[]) => post({ t: 'event', id, name: k, args }) : m && SIGNAL in m ? controllerFor(id).signal : x;
    }
    return out;
  };
  const controllerFor = (id: number) => {
    let c = aborts.get(id);
    if (!c) { c = new AbortController(); aborts.set(id, c); }
    return c;
  };
  /** A stream's credit: made by the call or by a 'credit'/'return' message, whichever comes first. */
  const creditFor = (id: number) => {
    let c = credits.get(id);
    if (!c) { c = { n: 0, returned: false }; credits.set(id, c); }
    return c;
  };

  async function load(id: number, args: unknown[]) {
    const [source, opts = {}] = args as [unknown, Record<string, unknown>];
    const { init: initOpts, ...loadOpts } = (opts ?? {}) as Record<string, unknown> & { init?: InitOptions };
    await init(initOpts ?? {});
    const model = await loadModel(source as never, loadOpts as never);
    const tmpl = model.header.metadata.get('tokenizer.chat_template')?.value;
    const info: LoadedModelInfo = {
      contextLength: model.contextLength, batchSize: model.batchSize, cacheType: model.cacheType,
      kernel: model.kernel, gemmKernel: model.gemmKernel, config: model.config, chatTemplate: typeof tmpl === 'string' ? tmpl : null,
      threads: model.threads, decodeChoice: model.decodeChoice,
    };
    return { handle: addHandle('model', model), info, kernelInfo: kernelInfo() };
  }

  async function iterate(id: number, gen: AsyncGenerator<unknown, unknown>) {
    const c = creditFor(id);
    try {
      for (;;) {
        while (c.n <= 0 && !c.returned) await new Promise<void>((r) => { c.wake = r; });
        if (c.returned) { await gen.return(undefined); post({ t: 'done', id, value: undefined }); return; }
        const { value, done } = await gen.next();
        if (done) { post({ t: 'done', id, value }); return; }
        c.n--;
        post({ t: 'yield', id, value });
      }
    } finally {
      credits.delete(id);
    }
  }

  async function call(m: Extract<ToWorker, { t: 'call' }>) {
    const { id, target, method } = m;
    const args = m.args.map((a) => revive(id, a));
    if (target === 0) {
      if (method === 'load') return post({ t: 'result', id, value: await load(id, args) });
      throw new BitnetError('BAD_ARGUMENT', `the engine has no method ${method}`);
    }
    const h = handles.get(target);
    if (!h) throw new BitnetError('DISPOSED', 'this object was disposed');
    const shape = Object.hasOwn(METHODS[h.kind], method) ? METHODS[h.kind][method] : undefined;
    if (!shape) throw new BitnetError('BAD_ARGUMENT', `a ${h.kind} has no method ${method}`);
    const obj = h.obj as unknown as Record<string, unknown>;
    if (shape === 'get') return post({ t: 'result', id, value: obj[method] });
    const fn = obj[method] as (...a: unknown[]) => unknown;
    if (shape === 'iter') {
      return iterate(id, fn.apply(obj, args) as AsyncGenerator<unknown, unknown>);
    }
    const value = await fn.apply(obj, args);
    if (method === 'dispose') handles.delete(target);
    if (shape === 'handle') {
      const kind: Kind = method === 'createChat' ? 'chat' : 'sequence';
      return post({ t: 'result', id, value: { handle: addHandle(kind, value as Sequence | ChatSession), contextLength: (value as Sequence).contextLength ?? (value as ChatSession).sequence?.contextLength } });
    }
    // A chat session's history changes with each reply: sent back with it.
    if (h.kind === 'chat' && method === 'send') return post({ t: 'result', id, value: { result: value, messages: (h.obj as ChatSession).messages } });
    post({ t: 'result', id, value }, transferables(value));
  }

  port.addEventListener('message', (ev) => {
    const m = ev.data as ToWorker;
    if (m.t === 'abort') { controllerFor(m.id).abort(); return; }
    if (m.t === 'credit' || m.t === 'return') {
      const c = creditFor(m.id);
      if (m.t === 'credit') c.n += m.n; else c.returned = true;
      c.wake?.();
      return;
    }
    if (m.t !== 'call') return;
    call(m).catch((e: unknown) => post({ t: 'error', id: m.id, error: toWire(e) })).finally(() => aborts.delete(m.id));
  });
}
