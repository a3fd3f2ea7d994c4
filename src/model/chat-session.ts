// A chat that keeps its history and its own KV cache (a Sequence). Until a context shift, each
// send() renders the whole conversation with the chat template, reuses the cached prefix (everything
// up to the new turn, or up to where the reply's re-tokenization differs from the sampled tokens)
// and prefills only the rest: its replies are bit for bit those of model.chat() on the whole
// conversation. A shift drops tokens from the cache, so the rendered conversation no longer matches
// it (and no longer fits): from then on the session keeps the token list the model saw and each
// send() appends only the new turn to it (as llama.cpp's server keeps its shifted tokens).
import { BitnetError } from '../errors.js';
import { createDetokenizer, type Tokenizer } from '../tokenizer/index.js';
import type { ChatMessage, GenerateOptions, GenerateResult, Model } from './model.js';
import { checkGenerateOptions } from './options.js';
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

/** What the model saw of the conversation after a context shift: tokens, then the end of the last
 *  reply's text that those tokens do not spell (tokenized with the next turn). */
interface Window { tokens: number[]; rest: string }

/** Stands for the last reply's content when the template renders the next turn (finds where it ends). */
const REPLY = '\uE000reply\uE001';

/**
 * A conversation on its own KV cache: `send()` adds a user message, generates the reply and adds it.
 *
 * What the model sees. Until a context shift (`contextShift` in send's options) it sees the whole
 * history as the template renders it (with the generation prompt), as `model.chat()` would. After a
 * turn in which a shift dropped tokens (`stats.droppedTokens > 0`), and for every turn after it, it
 * sees a token list W followed by the new turn:
 * - W after a turn = the turn's prompt tokens followed by the reply's tokens as sampled (those whose
 *   text is a prefix of the reply's text: a stop string's tokens are left out), without the
 *   `droppedTokens` tokens after the first `keep` (the kept prefix: the system message, see
 *   GenerateOptions.contextShift), i.e. exactly the tokens the cache holds (plus the reply's last
 *   token when it ended at maxTokens: generation does not run the token it ends on).
 * - The next turn's prompt = W followed by the tokens of (the part of the reply's text W does not
 *   spell, usually none) + (the text the template renders after the last reply's content when the
 *   new user message follows it: for llama3, `<|eot_id|><|start_header_id|>user...` up to the
 *   generation prompt), special tokens recognized, no BOS. So it prefills only the new turn (and
 *   that last token).
 * - A prompt that does not fit is shifted by the same rule before it runs (GenerateOptions.contextShift).
 * - A template that rewrites the earlier conversation when a turn is added (its rendering of the
 *   last turn's prompt, up to the generation prompt, is not a prefix of the next one) cannot continue
 *   W: that turn's prompt is then the whole history rendered again (shifted to fit), as before the
 *   shift. (What a template renders between the generation prompt and a reply's content, such as the
 *   space of "Assistant: ", is not part of W: the reply as sampled followed the generation prompt.)
 * A failed or aborted send() changes neither the history nor W.
 */
export class ChatSession {
  private history: ChatMessage[];
  /** null: the model sees the whole history as the template renders it (no shift yet). */
  private window: Window | null = null;

  /** @internal Made by model.createChat(). */
  constructor(private readonly model: Model, readonly sequence: Sequence, private readonly template: string | undefined, opts: ChatSessionOptions) {
    this.history = [...(opts.system !== undefined ? [{ role: 'system', content: opts.system }] : []), ...(opts.messages ?? [])];
  }

  /** The conversation so far (a copy; all of it, also what a context shift made the model forget). */
  get messages(): ChatMessage[] { return this.history.map((m) => ({ ...m })); }

  /** Adds a user message, generates the assistant's reply and adds it to the history. If the call
   *  fails or is aborted, the history is left as it was. */
  async send(content: string, opts: GenerateOptions = {}): Promise<GenerateResult> {
    if (typeof content !== 'string') throw new BitnetError('BAD_ARGUMENT', 'send() takes the message text (a string)');
    const messages = [...this.history, { role: 'user', content }];
    const o = { ...opts, template: this.template };
    const cont = this.window && this.continued(this.window, messages, o);
    const req = cont || this.model._chatRequest(this.sequence, messages, o);
    const r = await this.sequence.generate(req.prompt, req.opts);
    // (_chatShift made keep explicit whenever contextShift is on; without it nothing is dropped)
    const shift = req.opts.contextShift;
    const keep = typeof shift === 'object' ? shift.keep ?? 0 : 0;
    this.window = cont || r.stats.droppedTokens > 0 ? held(this.model.tokenizer, req.prompt, keep, r) : null;
    this.history = [...messages, { role: 'assistant', content: r.text }];
    return r;
  }

  /** Frees the session's KV cache (explicit eviction). */
  dispose(): void { this.sequence.dispose(); }

  /** The next turn's prompt after a shift: W, then the new turn's tokens; null if the template
   *  cannot render the new turn as a continuation of the last reply. */
  private continued(w: Window, messages: ChatMessage[], opts: GenerateOptions & { template?: string }):
      { prompt: number[]; opts: GenerateOptions } | null {
    opts = checkGenerateOptions(opts);
    opts.signal?.throwIfAborted(); // before rendering (bounded, but synchronous)
    const last = messages.length - 2; // the last reply (a window exists only after one)
    let after: string;
    try {
      const before = this.model.applyChatTemplate(messages.slice(0, last), this.template);
      const text = this.model.applyChatTemplate([...messages.slice(0, last), { role: 'assistant', content: REPLY }, messages[last + 1]], this.template);
      // What the template puts between the generation prompt and the content (the space of
      // "Assistant: ") is left out: the reply as sampled followed the generation prompt.
      const at = text.startsWith(before) ? text.indexOf(REPLY, before.length) : -1;
      if (at < 0) return null;
      after = text.slice(at + REPLY.length);
    } catch {
      // (the fallback, the whole history rendered again, reports a broken template as chat() does)
      return null;
    }
    const o = { parseSpecial: true, ...opts };
    const prompt = [...w.tokens, ...this.model.tokenize(w.rest + after, { addBos: false, parseSpecial: o.parseSpecial })];
    return { prompt, opts: this.model._chatShift(this.sequence, messages, prompt, o) };
  }
}

/** W after a turn (see ChatSession): the prompt and the reply's tokens as far as their text is a
 *  prefix of the reply's text (all of them when the reply ends inside a character), without [keep, keep + dropped); null if the drop reached past those
 *  tokens (a context of a few positions beyond keep and a stop string): the next turn then renders
 *  the whole history again. */
function held(tokenizer: Tokenizer, prompt: number[], keep: number, r: GenerateResult): Window | null {
  const detok = createDetokenizer(tokenizer);
  let spelled = '', n = 0;
  let i = 0;
  for (; i < r.tokens.length; i++) {
    const piece = detok.push(r.tokens[i]);
    if (!piece) continue; // (part of a character: counted with the token that completes it)
    if (spelled.length + piece.length > r.text.length) break;
    spelled += piece;
    n = i + 1;
  }
  // A reply that ends inside a character (maxTokens cut it there): its text ends in what the
  // detokenizer's flush spells for those bytes (U+FFFD), and its last tokens already stand for them.
  const tail = i === r.tokens.length ? detok.flush() : '';
  if (tail && r.text === spelled + tail) { spelled = r.text; n = r.tokens.length; }
  const all = [...prompt, ...r.tokens.slice(0, n)];
  const dropped = r.stats.droppedTokens;
  if (keep + dropped > all.length || !r.text.startsWith(spelled)) return null;
  return { tokens: [...all.slice(0, keep), ...all.slice(keep + dropped)], rest: r.text.slice(spelled.length) };
}
