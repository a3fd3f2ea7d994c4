/**
 * GPT-2 byte-level mapping: every byte 0..255 maps to one printable code point, so that
 * byte-level BPE vocabularies can be stored as text (space 0x20 -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A).
 * Bytes that are already printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves;
 * the remaining 68 bytes map, in increasing order, to U+0100, U+0101, ...
 */
function buildByteToChar(): string[] {
  const out = new Array<string>(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    out[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  }
  return out;
}

/** byte -> one-character string of the GPT-2 byte-level alphabet. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** code point of the byte-level alphabet -> byte (Map because the alphabet spans 0x21..0x143). */
export const CHAR_TO_BYTE: ReadonlyMap<number, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c.charCodeAt(0), b]));

/** Maps UTF-8 bytes to their byte-level text (one UTF-16 unit per byte). */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

/**
 * Maps byte-level text back to bytes, like llama.cpp's llama_decode_text: a code point outside
 * the alphabet is kept as its own UTF-8 bytes (llama.cpp writes an "[UNK_BYTE_…]" marker instead;
 * keeping the text is friendlier and only happens for malformed vocabularies).
 */
export function byteLevelToBytes(text: string, enc: TextEncoder): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const b = CHAR_TO_BYTE.get(ch.codePointAt(0) as number);
    if (b !== undefined) out.push(b);
    else for (const x of enc.encode(ch)) out.push(x);
  }
  return Uint8Array.from(out);
}
