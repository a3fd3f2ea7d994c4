// A sequence: one KV cache in wasm memory and the tokens it holds (positions 0..tokens.length-1).
// A model has a main sequence (what model.generate/chat/logits use) and any number of extra ones
// (model.createSequence, chat sessions) within its cache budget. Calls on one sequence queue FIFO
// (queue.ts); calls on different sequences run side by side, token step by token step.
// Every call reuses the longest common prefix of its prompt and the cached tokens and prefills
// only the rest (llama.cpp's cache_prompt).
import { BitnetError } from '../errors.js';
import { CallQueue } from './queue.js';
import type { ChatMessage, GenerateOptions, GenerateResult, Model } from './model.js';

export class Sequence {
  /** @internal Tokens whose keys and values the cache holds, in position order. */
  readonly cached: number[] = [];
  /** @internal */
  readonly queue = new CallQueue();
  private freed = false;

  /** @internal Made by Model (createSequence); k and v are the caches' wasm pointers. */
  constructor(private readonly model: Model, readonly contextLength: number, readonly byteLength: number,
              /** @internal */ readonly k: number, /** @internal */ readonly v: number,
              private readonly onDispose: (s: Sequence) => void) {}

  /** The tokens the cache holds now (a copy). */
  get tokens(): number[] { return this.cached.slice(); }

  get disposed(): boolean { return this.freed; }

  /** @internal */
  live(): void {
    if (this.freed) throw new BitnetError('DISPOSED', 'this sequence was disposed');
  }

  generate(prompt: string | number[], opts?: GenerateOptions): Promise<GenerateResult> { return this.model._generate(this, prompt, opts); }
  stream(prompt: string | number[], opts?: GenerateOptions): AsyncGenerator<string, void> { return this.model._stream(this, prompt, opts); }
  generateTokens(prompt: string | number[], opts?: GenerateOptions): AsyncGenerator<number, GenerateResult['finishReason']> {
    return this.model._generateTokens(this, prompt, opts);
  }
  chat(messages: ChatMessage[], opts?: GenerateOptions & { template?: string }): Promise<GenerateResult> { return this.model._chat(this, messages, opts); }
  /** Last-position logits of tokens (reusing the cached prefix). */
  logits(tokens: ArrayLike<number>): Float32Array { return this.model._logits(this, tokens); }

  /** Forgets the cached tokens (the memory stays allocated). */
  clear(): void { this.live(); this.cached.length = 0; }

  /** Frees the cache's memory (explicit eviction); the sequence cannot be used afterwards. */
  dispose(): void {
    if (this.freed) return;
    this.freed = true;
    this.cached.length = 0;
    this.onDispose(this);
  }
}

/** Longest common prefix of the cached tokens and a prompt. */
export function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
