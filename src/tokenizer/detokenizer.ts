import { BitnetError } from '../errors';
import type { DecodeOptions, Tokenizer } from './tokenizer';

export interface Detokenizer {
  /** Adds one token; returns the text that is now complete (never part of a UTF-8 character). */
  push(id: number): string;
  /** Ends the stream: returns what is pending (an incomplete UTF-8 tail becomes U+FFFD) and resets. */
  flush(): string;
  /** Drops pending bytes and starts a new stream. */
  reset(): void;
}

/**
 * Streaming detokenizer: feeding ids one at a time and concatenating every push() and the final
 * flush() gives exactly tokenizer.decode(ids, options). Pieces are raw bytes (a character may be
 * split across byte tokens, e.g. an emoji as <0xF0><0x9F>...), so output waits for whole characters.
 */
export function createDetokenizer(tokenizer: Tokenizer, options: DecodeOptions = {}): Detokenizer {
  if (tokenizer === null || typeof tokenizer !== 'object' || typeof tokenizer.tokenToPiece !== 'function') {
    throw new BitnetError('BAD_ARGUMENT', 'createDetokenizer: expected a tokenizer');
  }
  const special = options.special ?? false;
  const stripDefault = options.stripLeadingSpace ?? tokenizer.addSpacePrefix;
  let decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let strip = stripDefault;
  return {
    push(id: number): string {
      let p = tokenizer.tokenToPiece(id, { special });
      if (p.length === 0) return '';
      if (strip) {
        if (p[0] === 0x20) p = p.subarray(1);
        strip = false;
      }
      return decoder.decode(p, { stream: true });
    },
    flush(): string {
      const rest = decoder.decode();
      strip = stripDefault;
      return rest;
    },
    reset(): void {
      decoder = new TextDecoder('utf-8', { ignoreBOM: true });
      strip = stripDefault;
    },
  };
}
