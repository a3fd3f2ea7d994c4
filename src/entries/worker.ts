// Entry `bitnet-wasm/worker` (dist/worker.js): loadModel() with the engine in a dedicated module
// worker, for pages (a browser's main thread may not block on Atomics.wait, and a token step is
// longer than a frame). The worker's script (src/entries/engine-worker.ts, the whole engine) is
// inlined here as text and started from a blob: URL, so a bundler or a plain
// <script type=module> page needs no file to copy and no worker configuration.
import source from './engine-worker.js?source';
import { setEngineWorkerFactory } from '../worker/proxy.js';
import type { WorkerLike } from '../worker/protocol.js';

let url: string | null = null;
setEngineWorkerFactory(() => {
  url ??= URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const W = (globalThis as unknown as { Worker: new (u: string, o: { type: 'module'; name: string }) => WorkerLike }).Worker;
  return new W(url, { type: 'module', name: 'bitnet-wasm engine' });
});

export { loadModel, WorkerModel, WorkerSequence, WorkerChatSession, type WorkerLoadOptions } from '../worker/proxy.js';
export type { WorkerLike } from '../worker/protocol.js';
export { BitnetError, type BitnetErrorCode } from '../errors.js';
export { listCachedModels, deleteCachedModel, MODEL_CACHE, type CachedModel, type ModelCacheOptions } from '../cache/model-cache.js';
export type { ModelSource, LoadModelOptions, GenerateOptions, GenerateResult, ChatMessage, PerplexityOptions, PerplexityResult, ModelLoadProgress } from '../model/model.js';
export type { ChatSessionOptions } from '../model/chat-session.js';
export type { KernelInfo, KernelName, InitOptions } from '../init.js';
export { FALLBACK_CHAT_TEMPLATE } from '../server/handler.js';
