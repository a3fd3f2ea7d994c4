// A chat that keeps its history and its own KV cache (a Sequence): each send() renders the whole
// conversation with the chat template, reuses the cached prefix (everything up to the new turn,
// or up to where the reply's re-tokenization differs from the sampled tokens) and prefills only
// the rest. Its replies are bit for bit those of model.chat() on the whole conversation.
import { BitnetError } from '../errors.js';
import type { ChatMessage, GenerateOptions, GenerateResult } from './model.js';
import type { Sequence } from './sequence.js';

export interface ChatSessionOptions {
  /** A system message that starts the history. */
  system?: string;
  /** Earlier messages to start from (after the system message). */
  messages?: ChatMessage[];
  /** A Jinja chat template instead of the file's tokenizer.chat_template. */
  template?: string;
  /** Positions of this session's KV cache (default: the model's contextLength). */
  contextLength?: number;
}

export class ChatSession {
  private history: ChatMessage[];

  /** @internal Made by model.createChat(). */
  constructor(readonly sequence: Sequence, private readonly template: string | undefined, opts: ChatSessionOptions) {
    this.history = [...(opts.system !== undefined ? [{ role: 'system', content: opts.system }] : []), ...(opts.messages ?? [])];
  }

  /** The conversation so far (a copy). */
  get messages(): ChatMessage[] { return this.history.map((m) => ({ ...m })); }

  /** Adds a user message, generates the assistant's reply and adds it to the history. If the call
   *  fails or is aborted, the history is left as it was. */
  async send(content: string, opts: GenerateOptions = {}): Promise<GenerateResult> {
    if (typeof content !== 'string') throw new BitnetError('BAD_ARGUMENT', 'send() takes the message text (a string)');
    const messages = [...this.history, { role: 'user', content }];
    const r = await this.sequence.chat(messages, { ...opts, template: this.template });
    this.history = [...messages, { role: 'assistant', content: r.text }];
    return r;
  }

  /** Frees the session's KV cache (explicit eviction). */
  dispose(): void { this.sequence.dispose(); }
}
