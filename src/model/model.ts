// loadModel() and the Model: tokenizer + weights in wasm + KV cache + one forward() call per step.
import { ACT, D, DENSE, FORWARD, KV, L as LW, M, MAT, ROPE, SLOT } from '../../bindings/abi.js';
import { KERNEL_IDS, type KernelName } from '../../bindings/exports.js';
import { kernelRow } from '../../bindings/kernels.js';
import { calibration, decodeKernel, decodeSplit, defaultSplit, kernelForRole, splitBudget, type DecodeChoice } from '../calibrate.js';
import type { WasmRuntime } from '../../bindings/runtime.js';
import { TernaryMatrix } from '../ternary-matrix.js';
import { BitnetError } from '../errors.js';
import { cachedUrlSource, type ModelCacheOptions } from '../cache/model-cache.js';
import { fromFile, fromStream, fromUrl, parseGGUFHeader, toByteSource, type ByteSource, type GGUFHeader, type GGUFInput } from '../gguf/index.js';
import { estimateMemory, forwardScratchBytes, inspectHeader, loadingStagingBytes, workerScratchBytes } from './inspect.js';
import { getRuntime, init, resolveThreads, takeThreads } from '../init.js';
import { checkStopTokens, Sampler, type SamplingOptions, type TokenLogprob } from '../sampling.js';
import { constraintFor, type ConstraintOptions } from '../grammar/index.js';
import { createDetokenizer, createTokenizer, type Tokenizer } from '../tokenizer/index.js';
import { renderChatTemplate } from './chat-template.js';
import { nextTask } from './yield.js';
import { modelUrl } from './page-url.js';
import { configFromGGUF, withFileOffsets, type ModelConfig } from './config.js';
import { checkTensors } from './tensors.js';
import { checkGenerateOptions, checkLoadOptions, checkOptions, checkPrompt, checkString, checkTokens } from './options.js';
import { ChatSession, type ChatSessionOptions } from './chat-session.js';
import { commonPrefix, Sequence } from './sequence.js';
import { loadWeights, type LoadProgress, type ModelWeights } from './weights.js';

/** A GGUF file: a path (Node, Deno, Bun), an http(s) or file URL, a Blob/File, a ReadableStream,
 *  bytes, or a ByteSource. */
export type ModelSource = GGUFInput | string | URL | ReadableStream<Uint8Array>;

async function openSource(source: ModelSource, opts: LoadModelOptions): Promise<ByteSource> {
  const signal = opts.signal;
  // http(s) URLs with { cache }: the Cache API copy (src/cache), else ranges read as needed.
  const url = (href: string) => (opts.cache && /^https?:/i.test(href)
    ? cachedUrlSource(href, { ...(typeof opts.cache === 'object' ? opts.cache : {}), signal, onWarning: opts.onWarning,
      onProgress: (p) => opts.onProgress?.(p) })
    : fromUrl(href, { signal }));
  const href = typeof source === 'string' ? modelUrl(source) : undefined;
  if (href) return url(href);
  try {
    if (typeof source === 'string') return await fromFile(source);
    if (source instanceof URL && source.protocol === 'file:') return await fromFile(decodeURIComponent(source.pathname));
  } catch (e) {
    if (e instanceof BitnetError) throw e;
    throw new BitnetError('BAD_ARGUMENT', `cannot open the model file ${String(source)}: ${(e as Error).message}`, { cause: e });
  }
  if (source instanceof URL) return url(source.href);
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) return fromStream(source);
  return toByteSource(source as GGUFInput);
}

/** Loading progress: 'download' (bytes fetched for the cache), 'cache' (the file was in the
 *  cache: one event), 'load' (bytes read into wasm memory). */
export interface ModelLoadProgress extends LoadProgress { phase: 'download' | 'cache' | 'load' }

export interface LoadModelOptions {
  onProgress?: (p: ModelLoadProgress) => void;
  signal?: AbortSignal;
  /** Context length to allocate the KV cache for (default: the model's, capped at 4096). */
  contextLength?: number;
  /** Prefill batch (tokens per forward call; default 32). */
  batchSize?: number;
  /** Force one kernel (and so weight layout) for decode and prefill. Default: the calibration's
   *  chosen layout (I2 unless TL3's GEMV won by more than the rounds' spread:
   *  kernelInfo().calibration.layoutWhy); decode runs its GEMV kernel (calibration.gemv), prefill its
   *  GEMM kernel (calibration.gemm). Every kernel gives the same bits. */
  kernel?: KernelName;
  /** Threads of this model's forward passes (default: init's `threads`, 'auto' unless said).
   *  'auto' also measures at load which of a model's jobs are worth handing to the workers
   *  (model.decodeChoice; ~60 ms, cached per runtime); a number keeps the pool's default split.
   *  More than the runtime's workers starts more; a runtime without shared memory (init({ threads: 1 }),
   *  workerd, a page without COOP/COEP) runs on 1 and says so once. Same bits for every count. */
  threads?: number | 'auto';
  runtime?: WasmRuntime;
  /** Called (once per load) with a warning the load does not fail on: today, a contextLength
   *  beyond the context the model was trained for. Default: console.warn. */
  onWarning?: (message: string) => void;
  /** Bytes all KV caches together may hold: the main one plus those of createSequence() and
   *  createChat() (default: no limit but wasm memory). Going over it is an OUT_OF_MEMORY error;
   *  dispose() a sequence or session to free its cache. */
  cacheBudget?: number;
  /** KV cache values: 'f32' (default) or 'f16' (half the memory; keys and values rounded to f16 to
   *  nearest even as they are stored, attention then exactly as on those values decoded to f32, so
   *  the output is the same in every runtime but not the same as with 'f32'). */
  cacheType?: 'f32' | 'f16';
  /** Browsers: keep an http(s) model file in the Cache API and load it from there next time
   *  (downloaded with parallel Range requests and retries; listCachedModels / deleteCachedModel
   *  manage it). An object sets the cache name, chunk size, parallel requests and retries. */
  cache?: boolean | ModelCacheOptions;
}

export interface PerplexityOptions {
  /** 'all' (default): every token is predicted from the ones before it in its window, windows of
   *  `window` tokens each from an empty cache. 'llama': what llama.cpp's llama-perplexity computes:
   *  windows of `window` tokens (the rest of the text is dropped), each from an empty cache with
   *  its first token replaced by BOS (when the model adds BOS), and only the second half of each
   *  window scored, so every scored token has at least window/2 tokens of context. */
  mode?: 'all' | 'llama';
  /** Tokens per window (llama-perplexity's -c). Default: the context length for 'all', 512 (at
   *  most the context length) for 'llama'. */
  window?: number;
  /** Called after each scored token with (scored so far, tokens that will be scored). */
  onProgress?: (done: number, total: number) => void;
  /** Called after each window with its index (0-based) and the perplexity so far (what
   *  llama-perplexity prints as it goes). */
  onWindow?: (index: number, perplexitySoFar: number) => void;
}

export interface PerplexityResult {
  perplexity: number;
  /** Mean negative log-likelihood (natural log) of the scored tokens. */
  meanNll: number;
  /** Tokens scored. */
  count: number;
  /** llama-perplexity's "+/-": the perplexity times the standard error of the mean NLL. */
  uncertainty: number;
  /** Perplexity so far after each window (llama-perplexity's [1]x,[2]y,... line). */
  windows: number[];
}

export interface GenerateOptions extends SamplingOptions, ConstraintOptions {
  maxTokens?: number;
  /** Stop when the generated text contains one of these (not included in the result). */
  stop?: string[];
  /** Stop at these token ids (not included in the result; finishReason 'stop'). */
  stopTokens?: number[];
  signal?: AbortSignal;
  /** Add BOS as the file says (default), or force. */
  addBos?: boolean;
  /** Recognize special-token text like <|eot_id|> in the prompt (default false). */
  parseSpecial?: boolean;
  /** generate(): called with each text piece as it is produced. */
  onText?: (piece: string) => void;
  /** When the context is full, drop the oldest half of the tokens after the first `keep` (default:
   *  the BOS token if the sequence starts with it, else none; in chat() and chat sessions whose
   *  first message is a system message, that message: the tokens of it rendered alone by the
   *  template, as far as they agree with the conversation's) and go on. method 'reprefill'
   *  (default) runs the remaining tokens again at their new positions, exactly as a fresh model;
   *  'kshift' rotates their cached keys instead (llama.cpp's K-shift: far cheaper, approximate).
   *  A prompt that leaves no position for the next token is shifted the same way before it runs
   *  (the drop repeated until it fits; 'kshift' rotates what the cache already holds of it).
   *  stats.droppedTokens counts what was dropped. Off by default: generation then ends with
   *  finishReason 'context', and a prompt that does not fit is CONTEXT_OVERFLOW. */
  contextShift?: boolean | { keep?: number; method?: 'reprefill' | 'kshift' };
}

export interface ChatMessage { role: string; content: string }

export interface GenerateResult {
  text: string;
  tokens: number[];
  stats: {
    /** Tokens of the prompt as it ran (a prompt shifted to fit: without the dropped ones). */
    promptTokens: number;
    /** Prompt tokens whose keys and values were already in the sequence's cache (not prefilled). */
    cachedTokens: number;
    /** Tokens a context shift dropped during the call (of the prompt and of the generated ones;
     *  always positions keep, keep + 1, ... of the prompt followed by the generated tokens). */
    droppedTokens: number;
    generatedTokens: number; prefillTokensPerSecond: number; decodeTokensPerSecond: number;
  };
  /** 'length': maxTokens were generated; 'context': the KV cache filled up first (the context
   *  length was reached); 'eos': the model ended its text; 'stop': a stop string or stop token was
   *  produced, or a grammar's complete match can take no more tokens (and no EOS is allowed);
   *  'grammar': the grammar allows no token here and the output is not a complete match (rules
   *  that never finish, or text no token can spell). */
  finishReason: 'stop' | 'length' | 'eos' | 'context' | 'grammar';
  /** With topLogprobs: one entry per token of `tokens`. */
  logprobs?: TokenLogprob[];
}

const fmt = (f: 'f32' | 'i8') => (f === 'f32' ? DENSE.F32 : DENSE.I8);

/** Bytes per cached key or value. */
const CACHE_VALUE_BYTES = { f32: 4, f16: 2 } as const;

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class Model {
  readonly contextLength: number;
  private desc = 0;
  private scratchPtr = 0;
  private scratchBytes = 0;
  private io = 0; // tokens (batch i32) then logits (n_vocab f32)
  private disposed = false;
  private main!: Sequence;
  private sequences = new Set<Sequence>();
  private readonly cacheBudget: number;
  private _threads = 1;
  private _decodeChoice!: DecodeChoice;

  private constructor(readonly config: ModelConfig, readonly tokenizer: Tokenizer, readonly header: GGUFHeader,
                      private weights: ModelWeights, readonly rt: WasmRuntime, contextLength: number, readonly batchSize: number,
                      cacheBudget: number, readonly cacheType: 'f32' | 'f16', readonly gemmKernel: KernelName,
                      private readonly decode: KernelName) {
    this.contextLength = contextLength;
    this.cacheBudget = cacheBudget;
    const c = config, e = rt.exports;
    const f = () => rt.f32, i = () => rt.i32;
    try {
      this.desc = rt.alloc((D.WORDS + c.nLayer * LW.WORDS) * 4, 'model descriptor');
      this.main = this.allocSequence(contextLength, 'KV cache');
      this.io = rt.alloc(batchSize * 4 + c.nVocab * 4 + 16, 'io');
      const d = this.desc >>> 2;
      const put = (k: number, v: number) => { i()[d + k] = v; };
      put(D.N_EMBD, c.nEmbd); put(D.N_LAYER, c.nLayer); put(D.N_HEAD, c.nHead); put(D.N_HEAD_KV, c.nHeadKv);
      put(D.HEAD_DIM, c.headDim); put(D.N_FF, c.nFf); put(D.N_VOCAB, c.nVocab); put(D.N_CTX, contextLength); put(D.ROPE_DIM, c.ropeDim);
      f()[d + D.EPS] = c.rmsEps; f()[d + D.ROPE_BASE] = c.ropeBase;
      put(D.ACT, c.activation === 'relu2' ? ACT.RELU2 : ACT.SILU); put(D.KERNEL, KERNEL_IDS[decode]); put(D.KERNEL_GEMM, KERNEL_IDS[gemmKernel]);
      put(D.ROPE_TYPE, c.ropeType === 'interleaved' ? ROPE.INTERLEAVED : ROPE.NEOX);
      put(D.KV_TYPE, cacheType === 'f16' ? KV.F16 : KV.F32);
      const emb = weights.tokEmbd._wasm;
      put(D.EMBD, emb.ptr); put(D.EMBD_FMT, fmt(weights.tokEmbd.format)); put(D.EMBD_SCALES, emb.scales);
      put(D.OUT_NORM, weights.outputNorm);
      const head = weights.output?._wasm;
      put(D.HEAD, head?.ptr ?? 0); put(D.HEAD_FMT, fmt(weights.output?.format ?? 'i8')); put(D.HEAD_SCALES, head?.scales ?? 0);
      put(D.K_CACHE, this.main.k); put(D.V_CACHE, this.main.v);
      weights.layers.forEach((L, l) => {
        const o = D.LAYERS + l * LW.WORDS;
        put(o + LW.ATTN_NORM, L.attnNorm); put(o + LW.ATTN_SUB_NORM, L.attnSubNorm);
        put(o + LW.FFN_NORM, L.ffnNorm); put(o + LW.FFN_SUB_NORM, L.ffnSubNorm);
        // mats are in slot order (MATRICES = the SLOT order of bindings/abi.ts).
        L.mats.forEach((m, slot) => {
          const w = o + LW.MATS + M.WORDS * slot;
          if (m instanceof TernaryMatrix) { put(w + M.PTR, m._wasmPtr); f()[d + w + M.SCALE] = m.scale; put(w + M.FMT, MAT.TERNARY); }
          else { put(w + M.PTR, m._wasm.ptr); f()[d + w + M.SCALE] = 1; put(w + M.FMT, MAT.F32); }
        });
      });
      // Sized for the model's contextLength: every sequence's is at most that.
      this.scratchBytes = e.forward_scratch_bytes(this.desc, batchSize);
      this.scratchPtr = rt.alloc(this.scratchBytes, 'forward scratch');
      i()[d + D.SCRATCH] = this.scratchPtr;
    } catch (err) {
      this.freeBuffers();
      throw err;
    }
  }

  /** Bytes of KV cache per position (keys and values of every layer). */
  private get cacheBytesPerPosition(): number {
    const c = this.config;
    return 2 * c.nLayer * c.nHeadKv * c.headDim * CACHE_VALUE_BYTES[this.cacheType];
  }

  private allocSequence(ctx: number, what: string): Sequence {
    const bytes = ctx * this.cacheBytesPerPosition;
    let used = 0;
    for (const s of this.sequences) used += s.byteLength;
    if (used + bytes > this.cacheBudget) {
      throw new BitnetError('OUT_OF_MEMORY', `${what} for ${ctx} positions needs ${bytes} bytes; the cache budget is ${this.cacheBudget} and `
        + `${this.sequences.size} caches hold ${used} (dispose() a sequence or chat session to free its cache, or raise loadModel({ cacheBudget }))`);
    }
    const ptr = this.rt.alloc(bytes, `${what} (${ctx} positions)`);
    const seq = new Sequence(this, ctx, bytes, ptr, ptr + bytes / 2, (s) => {
      if (this.sequences.delete(s)) this.rt.free(s.k);
    });
    this.sequences.add(seq);
    return seq;
  }

  /** A new sequence: its own KV cache of contextLength positions (default and at most the
   *  model's), counted against loadModel's cacheBudget until you dispose() it. */
  createSequence(opts: { contextLength?: number } = {}): Sequence {
    this.live();
    opts = checkOptions('opts', opts);
    const ctx = opts.contextLength ?? this.contextLength;
    if (!Number.isInteger(ctx) || ctx < 1 || ctx > this.contextLength) {
      throw new BitnetError('BAD_ARGUMENT', `a sequence's contextLength must be an integer in 1..${this.contextLength} (the model's), got ${ctx}`);
    }
    return this.allocSequence(ctx, 'sequence KV cache');
  }

  /** A chat session with its own sequence: it keeps the history and prefills only each new turn
   *  (also after a context shift: see ChatSession). */
  createChat(opts: ChatSessionOptions = {}): ChatSession {
    opts = checkOptions('opts', opts);
    if (opts.system !== undefined && typeof opts.system !== 'string') throw new BitnetError('BAD_ARGUMENT', 'system must be a string');
    this.applyChatTemplate([...(opts.messages ?? []), { role: 'user', content: '' }], opts.template); // fail early on a bad template
    return new ChatSession(this, this.createSequence({ contextLength: opts.contextLength }), opts.template, opts);
  }

  /** Threads its forward passes use (1: no workers). */
  get threads(): number { return this._threads; }

  /** What its load measured on its weights: decode's kernel and, with threads from 'auto', the
   *  job size below which work stays on the calling thread (minWork), with the timings (a copy). */
  get decodeChoice(): DecodeChoice { return JSON.parse(JSON.stringify(this._decodeChoice)) as DecodeChoice; }

  /** The model's main sequence (the one model.generate, chat and logits use). */
  get mainSequence(): Sequence { return this.main; }

  static async load(source: ModelSource, opts: LoadModelOptions = {}): Promise<Model> {
    opts = checkLoadOptions(opts);
    if (!opts.runtime) await init();
    const rt = opts.runtime ?? getRuntime();
    // The layout is fixed once the weights are packed: the calibration's (I2 unless TL3's GEMV won
    // beyond the spread: decode is GEMV-bound); decode starts on its GEMV kernel, prefill runs its GEMM kernel.
    const kernel = opts.kernel ?? calibration(rt).gemv;
    if (!Object.hasOwn(KERNEL_IDS, kernel) || rt.exports.kernel_available(KERNEL_IDS[kernel]) !== 1) {
      throw new BitnetError('BAD_ARGUMENT', `kernel ${JSON.stringify(kernel)} is not one of this build's kernels (${rt.build})`);
    }
    const gemmKernel = opts.kernel ?? kernelForRole(rt, kernel, 'gemm');
    const threads = await takeThreads(rt, opts.threads === undefined ? rt.defaultThreads : await resolveThreads(opts.threads, 'opts.threads'),
      ['threads unavailable: this runtime has no shared memory (init({ threads: 1 }), or no SharedArrayBuffer / workers here)'], opts.threads !== 'auto');
    const budget = opts.cacheBudget ?? Infinity;
    if (typeof budget !== 'number' || !(budget >= 0)) throw new BitnetError('BAD_ARGUMENT', `cacheBudget must be a number of bytes >= 0, got ${budget}`);
    const cacheType = opts.cacheType ?? 'f32';
    if (!Object.hasOwn(CACHE_VALUE_BYTES, cacheType)) throw new BitnetError('BAD_ARGUMENT', `cacheType must be 'f32' or 'f16', got ${String(cacheType)}`);
    const input = await openSource(source, opts);
    // The file is closed on every path: success, a bad file, bad options, out of memory.
    let header: GGUFHeader, config: ModelConfig, tokenizer: Tokenizer, weights: ModelWeights, ctx: number, batch: number;
    try {
      header = await parseGGUFHeader(input);
      const h = header;
      config = withFileOffsets(h, () => configFromGGUF(h));
      const c = config;
      // No prototype: keys from the file ('__proto__', 'constructor', ...) are plain keys.
      const metadata: Record<string, unknown> = Object.create(null);
      for (const [k, v] of h.metadata) metadata[k] = v.value;
      tokenizer = withFileOffsets(h, () => {
        const t = createTokenizer(metadata);
        if (t.vocabSize !== c.nVocab) {
          throw new BitnetError('BAD_GGUF', `the tokenizer has ${t.vocabSize} tokens (tokenizer.ggml.tokens) but the model ${c.nVocab}`);
        }
        checkTensors(h, c);
        return t;
      });
      ctx = opts.contextLength ?? Math.min(config.nCtxTrain, 4096);
      if (!Number.isInteger(ctx) || ctx < 1 || ctx > 1 << 20) throw new BitnetError('BAD_ARGUMENT', `contextLength must be an integer in 1..2^20, got ${ctx}`);
      // As llama.cpp does: allowed (rope extrapolates), but the positions past training are untested.
      if (ctx > config.nCtxTrain) {
        (opts.onWarning ?? console.warn)(`contextLength ${ctx} exceeds the context this model was trained for (${config.nCtxTrain} tokens): `
          + `output at positions past ${config.nCtxTrain} may degrade`);
      }
      batch = opts.batchSize ?? 32;
      if (!Number.isInteger(batch) || batch < 1 || batch > 4096) throw new BitnetError('BAD_ARGUMENT', `batchSize must be an integer in 1..4096, got ${batch}`);
      // One growth of linear memory for everything the model will hold, plus loading's staging (taken
      // from the top of the reservation, so the packed tensors below it leave no holes).
      let fit = memoryFit(header, config, rt, kernel, ctx, CACHE_VALUE_BYTES[cacheType], batch, threads);
      // The default context (the trained one, up to 4096) shrinks to what fits, in steps of 256; a
      // context asked for explicitly never does: that is an error naming what fits.
      if (fit.fitCtx < ctx && opts.contextLength === undefined && fit.fitCtx >= 256) {
        const fitted = fit.fitCtx - (fit.fitCtx % 256);
        (opts.onWarning ?? console.warn)(`the default contextLength ${ctx} does not fit wasm memory with this model (${fit.message}); using ${fitted}`);
        ctx = fitted;
        fit = memoryFit(header, config, rt, kernel, ctx, CACHE_VALUE_BYTES[cacheType], batch, threads);
      }
      if (fit.fitCtx < ctx) throw new BitnetError('OUT_OF_MEMORY', fit.message);
      rt.reserve(fit.total, `model (${header.tensors.length} tensors)`);
      const onProgress = opts.onProgress;
      weights = await loadWeights(input, header, config, rt, kernel, { onProgress: onProgress && ((p) => onProgress({ ...p, phase: 'load' })), signal: opts.signal });
    } finally {
      await input.close?.();
    }
    let model: Model | undefined;
    try {
      // Decode's kernel within the packed layout (a forced kernel is taken as it is) and, with
      // threads from 'auto', which jobs go to the workers: timed on these weights at this thread
      // count (calibrate.ts decodeKernel, decodeSplit).
      const mats = weights.layers.map((L) => L.mats.flatMap((m) => (m instanceof TernaryMatrix ? [{ ptr: m._wasmPtr, rows: m.rows, cols: m.cols }] : [])));
      const t0 = now();
      const picked = opts.kernel === undefined ? decodeKernel(rt, kernel, threads, mats) : { kernel, kernelMs: {} };
      const kernelMs = now() - t0;
      const m = model = new Model(config, tokenizer, header, weights, rt, ctx, batch, budget, cacheType, gemmKernel, picked.kernel);
      m._threads = threads;
      // Each worker's own scratch: attention's over the whole context (its heads' score rows), and
      // prefill's TL3 GEMM decode area (0 bytes for other kernels); inspect.ts's workerScratchBytes.
      if (threads > 1) {
        rt.holdWorkerScratch(Math.max(rt.exports.attention_scratch_bytes(config.nHead, config.nHeadKv, config.headDim, ctx),
          rt.exports.matmul_worker_bytes(KERNEL_IDS[gemmKernel], Math.max(config.nEmbd, config.nFf, config.nHead * config.headDim))));
        m._holdsScratch = true;
      }
      const auto = opts.threads === 'auto' || (opts.threads === undefined && rt.autoThreads);
      const t1 = now();
      // A step's jobs past the single matrices: the fused ones (Q+K+V, gate+up: forward.ts fuses
      // matrices that share their input when all are ternary) and the output head, whose cost
      // depends on its format (an f32 tied embedding reads 4x an int8 head's bytes).
      const L0 = weights.layers[0]?.mats ?? [], fused = (ix: number[], what: string) => (ix.every((i) => L0[i] instanceof TernaryMatrix)
        ? [{ work: ix.reduce((s, i) => s + L0[i].rows * L0[i].cols, 0), what }] : []);
      const head = { work: config.nVocab * config.nEmbd, what: weights.output ? `head ${weights.output.format}` : `tied ${weights.tokEmbd.format}` };
      const jobs = [...fused([SLOT.Q, SLOT.K, SLOT.V], 'qkv'), ...fused([SLOT.GATE, SLOT.UP], 'gate+up'), head];
      const split = auto ? decodeSplit(rt, picked.kernel, threads, mats, jobs, () => m.calibrationStep(), splitBudget(kernelMs))
        : defaultSplit(threads > 1 ? 'threads asked for: the default split' : 'one thread');
      m._decodeChoice = { ...picked, threads, ...split, ms: Math.round((kernelMs + now() - t1) * 10) / 10 };
      return m;
    } catch (err) {
      if (model) model.dispose(); // its weights too
      else weights.dispose();
      throw err;
    }
  }

  private live(): void {
    if (this.disposed) throw new BitnetError('DISPOSED', 'this model was disposed');
  }

  tokenize(text: string, opts: { addBos?: boolean; parseSpecial?: boolean } = {}): number[] {
    this.live();
    checkString('text', text);
    opts = checkOptions('opts', opts);
    return Array.from(this.tokenizer.encode(text, opts));
  }

  detokenize(ids: ArrayLike<number>): string {
    this.live();
    checkTokens('ids', ids);
    return this.tokenizer.decode(Array.from(ids));
  }

  /** Runs tokens at positions pos0.. of a sequence (which must hold at least pos0 tokens; it
   *  forgets those after pos0) and returns a view of the last token's logits (valid until the next call). */
  private run(seq: Sequence, tokens: ArrayLike<number>, pos0: number): Float32Array {
    this.live();
    seq.live();
    const rt = this.rt, e = rt.exports, c = this.config;
    if (pos0 + tokens.length > seq.contextLength) {
      throw new BitnetError('CONTEXT_OVERFLOW', `${pos0 + tokens.length} tokens do not fit the context of ${seq.contextLength} (loadModel({ contextLength }) sets it)`);
    }
    if (pos0 > seq.cached.length) throw new Error(`internal: run at ${pos0} past the ${seq.cached.length} cached tokens`);
    seq.cached.length = pos0;
    this.bind(seq);
    const logits = this.io + this.batchSize * 4;
    for (let s = 0; s < tokens.length; s += this.batchSize) {
      const n = Math.min(this.batchSize, tokens.length - s);
      const t = rt.i32, base = this.io >>> 2;
      for (let j = 0; j < n; j++) {
        const id = tokens[s + j];
        if (!Number.isInteger(id) || id < 0 || id >= c.nVocab) throw new BitnetError('BAD_ARGUMENT', `token id ${id} is out of range (vocabulary ${c.nVocab})`);
        t[base + j] = id;
      }
      rt.useThreads(this._threads, this._decodeChoice.minWork);
      const status = e.forward(this.desc, this.io, n, pos0 + s, logits);
      rt.checkThreads();
      if (status !== FORWARD.OK) throw new BitnetError('MODEL_ERROR', status === FORWARD.NONFINITE ? 'the forward pass produced a NaN or an infinity' : `forward() failed with status ${status}`);
      for (let j = 0; j < n; j++) seq.cached.push(tokens[s + j]);
    }
    return rt.f32.subarray(logits >>> 2, (logits >>> 2) + c.nVocab);
  }

  /** One decode step for the load's measurement (calibrate.ts decodeSplit): a token at position 0
   *  of the main sequence, which is empty at load and left empty; threads as the caller set them. */
  private calibrationStep(): void {
    const e = this.rt.exports;
    this.bind(this.main);
    this.rt.i32[this.io >>> 2] = 0;
    e.forward(this.desc, this.io, 1, 0, this.io + this.batchSize * 4);
    this.main.cached.length = 0;
  }

  /** Points the descriptor at a sequence's cache (forward and kv_shift then use it). */
  private bind(seq: Sequence): void {
    const i = this.rt.i32, d = this.desc >>> 2;
    i[d + D.N_CTX] = seq.contextLength; i[d + D.K_CACHE] = seq.k; i[d + D.V_CACHE] = seq.v;
  }

  /** Drops cached tokens [keep, keep + drop) and moves the rest down: 'reprefill' runs them again
   *  at their new positions (as a fresh model would), 'kshift' rotates their cached keys by -drop
   *  (llama.cpp's K-shift). Returns the logits after `next` is run at the end. */
  private shift(seq: Sequence, keep: number, drop: number, method: ShiftMethod, next: number): Float32Array {
    if (method === 'reprefill') return this.prefill(seq, [...seq.cached.slice(0, keep), ...seq.cached.slice(keep + drop), next]).logits;
    this.rotate(seq, keep, drop);
    return this.run(seq, [next], seq.cached.length);
  }

  /** K-shift: drops cached rows [keep, keep + drop), moves the rest down and rotates their keys. */
  private rotate(seq: Sequence, keep: number, drop: number): void {
    this.live();
    seq.live();
    this.bind(seq);
    const status = this.rt.exports.kv_shift(this.desc, keep, drop, seq.cached.length);
    if (status !== 0) throw new Error(`internal: kv_shift failed with status ${status}`);
    seq.cached.splice(keep, drop);
  }

  /** Brings a sequence to hold exactly `ids`, reusing the longest cached prefix, and returns the
   *  last token's logits and how many tokens came from the cache. The last token is always run
   *  (its logits are not kept), so at most ids.length - 1 are reused. */
  private prefill(seq: Sequence, ids: ArrayLike<number>): { logits: Float32Array; cached: number } {
    const cached = Math.min(commonPrefix(seq.cached, ids), ids.length - 1);
    return { logits: this.run(seq, Array.prototype.slice.call(ids, cached) as number[], cached), cached };
  }

  /** Runs a synchronous call on seq if no call is using it, else on a temporary cache of `positions`. */
  private onFreeSequence<T>(seq: Sequence, positions: number, fn: (s: Sequence) => T): T {
    this.live();
    seq.live();
    if (seq.queue.idle) return fn(seq);
    // Counted in the cache budget while it lives, like every other cache.
    const tmp = this.allocSequence(Math.min(positions, seq.contextLength), 'a temporary KV cache (a synchronous call while its sequence is busy)');
    try { return fn(tmp); } finally { tmp.dispose(); }
  }

  /** Last-position logits of a token sequence (reusing the main sequence's cached prefix). */
  logits(tokens: ArrayLike<number>): Float32Array { return this._logits(this.main, tokens); }

  /** @internal */
  _logits(seq: Sequence, tokens: ArrayLike<number>): Float32Array {
    this.live();
    checkTokens('tokens', tokens);
    if (tokens.length === 0) throw new BitnetError('BAD_ARGUMENT', 'logits() needs at least one token');
    return this.onFreeSequence(seq, tokens.length, (s) => this.prefill(s, tokens).logits.slice());
  }

  /** Perplexity of a token sequence, as the mean negative log-likelihood of each scored token given
   *  the ones before it in its window (see PerplexityOptions for the two ways of windowing).
   *  log-softmax runs in wasm. */
  perplexity(tokens: ArrayLike<number>, opts: PerplexityOptions = {}): PerplexityResult {
    this.live();
    checkTokens('tokens', tokens);
    opts = checkOptions('opts', opts);
    const mode = opts.mode ?? 'all';
    if (mode !== 'all' && mode !== 'llama') throw new BitnetError('BAD_ARGUMENT', `perplexity mode must be 'all' or 'llama', got ${String(mode)}`);
    const window = opts.window ?? (mode === 'llama' ? Math.min(512, this.contextLength) : this.contextLength);
    if (!Number.isInteger(window) || window < 2) throw new BitnetError('BAD_ARGUMENT', `perplexity window must be an integer >= 2, got ${window}`);
    if (window > this.contextLength) {
      throw new BitnetError('CONTEXT_OVERFLOW', `a perplexity window of ${window} tokens does not fit the context of ${this.contextLength} (loadModel({ contextLength }) sets it)`);
    }
    const n = tokens.length;
    // Per window: the positions whose logits are scored ([from, to) predicting token j + 1).
    const llama = mode === 'llama';
    const first = llama ? window >> 1 : 0;
    const nWindows = llama ? Math.floor(n / window) : Math.ceil((n - 1) / window);
    if (llama && nWindows === 0) throw new BitnetError('BAD_ARGUMENT', `perplexity needs at least ${window} tokens (one window) in llama mode, got ${n}`);
    if (!llama && n < 2) throw new BitnetError('BAD_ARGUMENT', 'perplexity needs at least two tokens');
    let total = 0;
    for (let w = 0; w < nWindows; w++) total += Math.min(window, n - w * window) - 1 - first;
    const bos = llama && this.tokenizer.addBos && this.tokenizer.bos >= 0 ? this.tokenizer.bos : -1;
    const logitsPtr = this.io + this.batchSize * 4;
    let nll = 0, nll2 = 0, count = 0;
    const windows: number[] = [];
    return this.onFreeSequence(this.main, window, (seq) => {
      for (let w = 0; w < nWindows; w++) {
        const chunk = Array.from({ length: Math.min(window, n - w * window) }, (_, j) => tokens[w * window + j]);
        if (bos >= 0) chunk[0] = bos;
        if (first > 0) this.run(seq, chunk.slice(0, first), 0);
        for (let j = first; j + 1 < chunk.length; j++) {
          const l = this.run(seq, [chunk[j]], j);
          const x = this.rt.exports.logsumexp(logitsPtr, this.config.nVocab) - l[chunk[j + 1]];
          nll += x; nll2 += x * x; count++;
          opts.onProgress?.(count, total);
        }
        windows.push(Math.exp(nll / count));
        opts.onWindow?.(w, windows[w]);
      }
      const mean = nll / count, variance = nll2 / count - mean * mean;
      const perplexity = Math.exp(mean);
      return { perplexity, meanNll: mean, count, uncertainty: count > 1 && variance > 0 ? perplexity * Math.sqrt(variance / (count - 1)) : 0, windows };
    });
  }

  /** Prefill and decode speed like llama-bench: a prompt of `prompt` tokens, then `gen` single steps. */
  bench(opts: { prompt?: number; gen?: number } = {}): { prefillTokensPerSecond: number; decodeTokensPerSecond: number } {
    this.live();
    opts = checkOptions('opts', opts);
    const p = opts.prompt ?? 128, g = opts.gen ?? 64;
    if (!Number.isInteger(p) || p < 1 || !Number.isInteger(g) || g < 0) throw new BitnetError('BAD_ARGUMENT', `bench needs an integer prompt >= 1 and gen >= 0, got ${p} and ${g}`);
    if (p + g > this.contextLength) throw new BitnetError('CONTEXT_OVERFLOW', `prompt ${p} + gen ${g} exceeds the context of ${this.contextLength}`);
    const ids = Array.from({ length: p }, (_, i) => (i * 7919 + 13) % this.config.nVocab);
    return this.onFreeSequence(this.main, p + g, (seq) => {
      const t0 = now();
      this.run(seq, ids, 0);
      const t1 = now();
      let tok = ids[p - 1];
      for (let i = 0; i < g; i++) {
        const l = this.run(seq, [tok], p + i);
        tok = this.rt.exports.argmax(this.io + this.batchSize * 4, l.length);
      }
      const t2 = now();
      return { prefillTokensPerSecond: p / ((t1 - t0) / 1000), decodeTokensPerSecond: g / ((t2 - t1) / 1000) };
    });
  }

  /** Token ids as they are generated. */
  generateTokens(prompt: string | number[], opts: GenerateOptions = {}, stats?: GenerateResult['stats'], logprobs?: TokenLogprob[]): AsyncGenerator<number, GenerateResult['finishReason']> {
    return this._generateTokens(this.main, prompt, opts, stats, logprobs);
  }

  /** @internal Waits its turn on the sequence (FIFO), holds it until the generator finishes, fails or is returned. */
  async *_generateTokens(seq: Sequence, prompt: string | number[], opts: GenerateOptions = {}, stats?: GenerateResult['stats'], logprobs?: TokenLogprob[]): AsyncGenerator<number, GenerateResult['finishReason']> {
    this.live();
    seq.live();
    prompt = checkPrompt(prompt);
    opts = checkGenerateOptions(opts);
    const maxTokens = opts.maxTokens ?? 128;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new BitnetError('BAD_ARGUMENT', `maxTokens must be a non-negative integer, got ${maxTokens}`);
    const given = typeof prompt === 'string' ? this.tokenize(prompt, { addBos: opts.addBos, parseSpecial: opts.parseSpecial }) : [...prompt];
    if (given.length === 0) throw new BitnetError('BAD_ARGUMENT', 'the prompt has no tokens (and the vocabulary adds no BOS)');
    const shift = contextShiftOf(opts.contextShift, given, this.tokenizer.bos, seq.contextLength);
    // A prompt needs a free position for the next token, unless nothing is generated (as logits()).
    // With contextShift one that does not leave it is shifted first, by the rule of the loop below.
    const room = seq.contextLength - (maxTokens > 0 ? 1 : 0);
    let promptDrop = 0;
    if (given.length > room && shift) {
      for (let n = given.length; n > room;) { const d = Math.max(1, (n - shift.keep) >> 1); promptDrop += d; n -= d; }
    } else if (given.length > room) {
      throw new BitnetError('CONTEXT_OVERFLOW', `the prompt has ${given.length} tokens; the context holds ${seq.contextLength}`
        + (given.length === seq.contextLength ? ' (with maxTokens > 0 the next token needs a position too)' : ''));
    }
    const ids = promptDrop ? [...given.slice(0, shift!.keep), ...given.slice(shift!.keep + promptDrop)] : given;
    const stopTokens = checkStopTokens(opts.stopTokens, this.config.nVocab);
    const sampler = new Sampler(opts, this.rt, this.config.nVocab, constraintFor(opts, this.tokenizer));
    const release = await seq.queue.acquire(opts.signal);
    try {
      this.live();
      seq.live();
      const t0 = now();
      // K-shift of a shifted prompt: rotate the rows the cache already holds past the dropped ones.
      if (promptDrop && shift!.method === 'kshift') {
        const held = commonPrefix(seq.cached, given);
        if (held > shift!.keep + promptDrop) { seq.cached.length = held; this.rotate(seq, shift!.keep, promptDrop); }
      }
      let { logits, cached } = this.prefill(seq, ids);
      const t1 = now();
      let dropped = promptDrop;
      if (stats) {
        stats.promptTokens = ids.length; stats.cachedTokens = cached; stats.droppedTokens = dropped;
        stats.prefillTokensPerSecond = (ids.length - cached) / Math.max(1e-9, (t1 - t0) / 1000);
      }
      if (maxTokens === 0) return 'length'; // prefill only (the cache then holds the prompt)
      const history = ids.slice(); // (penalties see the prompt as it ran)
      let generated = 0;
      const t2 = now();
      for (;;) {
        // (the per-step point: logits in, one token out)
        const next = sampler.sample(logits, history);
        if (next < 0) {
          if (!sampler.constraint) throw new BitnetError('BAD_ARGUMENT', 'logitBias bans every token');
          return sampler.constraint.canEnd() ? 'stop' : 'grammar';
        }
        history.push(next);
        generated++;
        if (stats) { stats.generatedTokens = generated; stats.decodeTokensPerSecond = generated / Math.max(1e-9, (now() - t2) / 1000); }
        if (this.tokenizer.isEog(next)) return 'eos';
        if (stopTokens?.has(next)) return 'stop';
        if (logprobs) logprobs.push(sampler.logprobs(logits, next)); // (only when a caller collects them: not on the decode path otherwise)
        yield next;
        if (opts.signal) { await nextTask(); opts.signal.throwIfAborted(); }
        if (generated >= maxTokens) return 'length';
        // Prompt and generated tokens together fill at most contextLength (the last one is never run).
        const pos = seq.cached.length;
        if (pos + 1 < seq.contextLength) logits = this.run(seq, [next], pos);
        else if (!shift) return 'context';
        else {
          // Context shift: keep the first `keep` tokens, drop half of the rest.
          const drop = Math.max(1, (pos - shift.keep) >> 1);
          logits = this.shift(seq, shift.keep, drop, shift.method, next);
          dropped += drop;
          if (stats) stats.droppedTokens = dropped;
        }
      }
    } finally {
      release();
    }
  }

  /** Text pieces as they are generated (never half a UTF-8 character). */
  stream(prompt: string | number[], opts: GenerateOptions = {}): AsyncGenerator<string, void> { return this._stream(this.main, prompt, opts); }

  /** @internal */
  async *_stream(seq: Sequence, prompt: string | number[], opts: GenerateOptions = {}): AsyncGenerator<string, void> {
    yield* this.generateText(seq, prompt, opts);
  }

  private async *generateText(seq: Sequence, prompt: string | number[], opts: GenerateOptions, out?: GenerateResult): AsyncGenerator<string, void> {
    prompt = checkPrompt(prompt);
    opts = checkGenerateOptions(opts);
    const detok = createDetokenizer(this.tokenizer);
    const stops = opts.stop ?? [];
    const stats = out?.stats;
    let text = '';
    let emitted = 0; // characters of `text` already yielded
    const hold = stops.reduce((m, s) => Math.max(m, s.length - 1), 0);
    if (out && opts.topLogprobs !== undefined) out.logprobs = [];
    const gen = this._generateTokens(seq, prompt, opts, stats, out?.logprobs);
    try {
      for (;;) {
        const { value, done } = await gen.next();
        if (done) { if (out) out.finishReason = value; break; }
        out?.tokens.push(value);
        text += detok.push(value);
        const hit = stops.map((s) => text.indexOf(s, Math.max(0, emitted - s.length))).filter((i) => i >= 0);
        if (hit.length) {
          const cut = Math.min(...hit);
          if (cut > emitted) yield text.slice(emitted, cut);
          text = text.slice(0, cut);
          if (out) { out.finishReason = 'stop'; out.text = text; }
          return;
        }
        const safe = text.length - hold;
        if (safe > emitted) { yield text.slice(emitted, safe); emitted = safe; }
      }
    } finally {
      // Ends the token generator (and frees the sequence) when the consumer stops early too.
      await gen.return('stop');
    }
    text += detok.flush();
    if (text.length > emitted) yield text.slice(emitted);
    if (out) out.text = text;
  }

  /** Renders messages with the file's chat template (tokenizer.chat_template, Jinja) and generates
   *  the assistant's reply. Special tokens in the rendered text are recognized. */
  async chat(messages: ChatMessage[], opts: GenerateOptions & { template?: string } = {}): Promise<GenerateResult> {
    return this._chat(this.main, messages, opts);
  }

  /** @internal */
  _chat(seq: Sequence, messages: ChatMessage[], opts: GenerateOptions & { template?: string } = {}): Promise<GenerateResult> {
    const r = this._chatRequest(seq, messages, opts);
    return this._generate(seq, r.prompt, r.opts);
  }

  /** @internal chat()'s prompt: the conversation rendered with the generation prompt, tokenized with
   *  special tokens recognized and no BOS added (unless opts say otherwise), and its options with
   *  the context shift's keep made explicit (_chatShift). */
  _chatRequest(seq: Sequence, messages: ChatMessage[], opts: GenerateOptions & { template?: string } = {}): { prompt: number[]; opts: GenerateOptions } {
    opts = checkGenerateOptions(opts);
    opts.signal?.throwIfAborted(); // before rendering (bounded, but synchronous)
    const text = this.applyChatTemplate(messages, opts.template);
    const o = { parseSpecial: true, addBos: false, ...opts };
    const prompt = this.tokenize(text, { addBos: o.addBos, parseSpecial: o.parseSpecial });
    return { prompt, opts: this._chatShift(seq, messages, prompt, o) };
  }

  /** @internal opts with a chat's contextShift keep made explicit: an explicit keep wins; else, if
   *  the first message is a system message, the tokens of it rendered alone by the template (no
   *  generation prompt) as far as they agree with the prompt's (a template may not render it apart:
   *  then the default); else the default (the BOS if the prompt starts with it). */
  _chatShift(seq: Sequence, messages: ChatMessage[], prompt: number[], opts: GenerateOptions & { template?: string }): GenerateOptions & { template?: string } {
    const shift = opts.contextShift;
    if (!shift) return opts;
    const o = shift === true ? {} : shift;
    let keep = o.keep;
    if (keep === undefined && messages[0]?.role === 'system') {
      let alone: string | null = null;
      try { alone = this.renderChat([messages[0]], opts.template, false); } catch { /* a template that cannot render it alone: the default */ }
      if (alone !== null) keep = commonPrefix(this.chatTokens(alone), prompt);
      if (keep !== undefined && keep > seq.contextLength - 2) {
        throw new BitnetError('BAD_ARGUMENT', `the system message takes ${keep} tokens: a context shift needs at least 2 more positions than it keeps `
          + `(this context holds ${seq.contextLength}); pass contextShift: { keep } or a longer contextLength`);
      }
    }
    return { ...opts, contextShift: { ...o, keep: contextShiftOf({ ...o, keep }, prompt, this.tokenizer.bos, seq.contextLength)!.keep } };
  }

  /** Tokens of rendered chat text, as chat() tokenizes its prompt. */
  private chatTokens(text: string): number[] { return Array.from(this.tokenizer.encode(text, { parseSpecial: true, addBos: false })); }

  /** The prompt text chat() generates from (with the generation prompt appended). */
  applyChatTemplate(messages: ChatMessage[], template?: string): string {
    return this.renderChat(messages, template, true);
  }

  private renderChat(messages: ChatMessage[], template: string | undefined, addGenerationPrompt: boolean): string {
    this.live();
    if (template !== undefined) checkString('template', template);
    const src = template ?? this.header.metadata.get('tokenizer.chat_template')?.value;
    if (typeof src !== 'string') throw new BitnetError('BAD_ARGUMENT', 'this model has no tokenizer.chat_template; pass { template }');
    if (!Array.isArray(messages) || messages.some((m) => typeof m?.role !== 'string' || typeof m?.content !== 'string')) {
      throw new BitnetError('BAD_ARGUMENT', 'messages must be an array of { role: string, content: string }');
    }
    const tk = this.tokenizer;
    const text = (id: number) => (id >= 0 ? tk.tokenText(id) : '');
    return renderChatTemplate(src, { messages, add_generation_prompt: addGenerationPrompt, bos_token: text(tk.bos), eos_token: text(tk.eos) });
  }

  generate(prompt: string | number[], opts: GenerateOptions = {}): Promise<GenerateResult> { return this._generate(this.main, prompt, opts); }

  /** @internal */
  async _generate(seq: Sequence, prompt: string | number[], opts: GenerateOptions = {}): Promise<GenerateResult> {
    opts = checkGenerateOptions(opts);
    const out: GenerateResult = { text: '', tokens: [], finishReason: 'length',
      stats: { promptTokens: 0, cachedTokens: 0, droppedTokens: 0, generatedTokens: 0, prefillTokensPerSecond: 0, decodeTokensPerSecond: 0 } };
    for await (const piece of this.generateText(seq, prompt, opts, out)) opts.onText?.(piece);
    return out;
  }

  /** @internal This model holds the runtime's worker scratch (released on dispose). */
  _holdsScratch = false;

  private freeBuffers(): void {
    if (this._holdsScratch) { this._holdsScratch = false; this.rt.releaseWorkerScratch(); }
    for (const s of [...this.sequences]) s.dispose();
    for (const p of [this.desc, this.io, this.scratchPtr]) if (p) this.rt.free(p);
    this.desc = this.io = this.scratchPtr = 0;
  }

  /** The ternary kernel of one-token steps (decode); `gemmKernel` runs prompts (prefill). */
  get kernel(): KernelName { return this.decode; }

  /** Bytes of wasm memory this model holds (weights, KV caches of all sequences, scratch). */
  get byteLength(): number {
    let caches = 0;
    for (const s of this.sequences) caches += s.byteLength;
    return this.weights.byteLength + caches + this.scratchBytes;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.freeBuffers();
    this.weights.dispose();
  }
}

type ShiftMethod = 'reprefill' | 'kshift';

/** The kept prefix and method of a context shift, or null when contextShift is off. */
function contextShiftOf(opt: GenerateOptions['contextShift'], ids: number[], bos: number, ctx: number): { keep: number; method: ShiftMethod } | null {
  if (!opt) return null;
  const o = typeof opt === 'object' ? opt : {};
  const keep = o.keep ?? (ids[0] === bos ? 1 : 0);
  if (!Number.isInteger(keep) || keep < 0 || keep > ctx - 2) {
    throw new BitnetError('BAD_ARGUMENT', `contextShift.keep must be an integer in 0..${ctx - 2} (the context holds ${ctx}), got ${keep}`);
  }
  const method = o.method ?? 'reprefill';
  if (method !== 'reprefill' && method !== 'kshift') throw new BitnetError('BAD_ARGUMENT', `contextShift.method must be 'reprefill' or 'kshift', got ${String(method)}`);
  return { keep, method };
}

/** What the model needs at a context, and the longest context that fits what the heap can still
 *  give (memory freed by earlier models counts); checked before any tensor data is read. */
function memoryFit(header: GGUFHeader, config: ModelConfig, rt: WasmRuntime, kernel: KernelName, ctx: number, kvValueBytes: number, batch: number,
    threads: number): { total: number; fitCtx: number; message: string } {
  const i = inspectHeader(header, { contextLength: ctx });
  const layout = kernelRow(kernel).layout;
  const m = estimateMemory({
    ternaryWeights: i.ternary.weights, kernel, embeddingEntries: (i.embedding?.entries ?? 0) + (i.output?.entries ?? 0),
    embeddingRows: config.nVocab * (i.output ? 2 : 1), embeddingMode: i.embeddingMode, normEntries: i.norms.entries,
    otherBytes: 0, nLayer: config.nLayer, nCtx: ctx, nHeadKv: config.nHeadKv, headDim: config.headDim, kvValueBytes,
    staging: loadingStagingBytes(header), scratch: forwardScratchBytes(i.hyperparameters, ctx, layout, batch),
    workers: (threads - 1) * workerScratchBytes(i.hyperparameters, ctx, layout),
  });
  // Headroom for alignment and the estimate's rounding.
  const budget = rt.heap.available - 16 * 2 ** 20;
  const fixed = m.total - Math.max(m.staging, m.kvCache + m.scratch + m.workers);
  const fitCtx = m.total <= budget ? ctx : fixed + m.staging > budget ? 0
    : Math.floor((budget - fixed - m.scratch - m.workers) / (m.kvCache / ctx));
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  const message = `the model needs ${gib(m.total)} of wasm memory (ternary ${gib(m.ternary)} in ${m.layout}, embedding ${gib(m.embedding)}, `
    + `KV cache for ${ctx} positions ${gib(m.kvCache)}); wasm memory is limited to ${gib(rt.heap.limit)} and ${gib(budget)} is free here. `
    + (fitCtx >= 1 ? `It fits with contextLength <= ${fitCtx}${kvValueBytes === 4 ? ` (about twice that with cacheType: 'f16')` : ''}.`
      : `Its weights alone do not fit: this model is too large for bitnet-wasm (memory64 is not available).`);
  return { total: m.total, fitCtx, message };
}

export function loadModel(source: ModelSource, opts?: LoadModelOptions): Promise<Model> {
  return Model.load(source, opts);
}
