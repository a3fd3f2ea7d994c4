/** Every failure the library reports on purpose is a BitnetError with a stable `code`. */
export type BitnetErrorCode =
  | 'NOT_INITIALIZED'
  | 'UNSUPPORTED_BUILD'
  | 'NO_SIMD'
  | 'WASM_LOAD_FAILED'
  | 'BAD_ARGUMENT'
  | 'BAD_SHAPE'
  | 'BAD_LENGTH'
  | 'NOT_TERNARY'
  | 'NON_FINITE'
  | 'DISPOSED'
  | 'OUT_OF_MEMORY'
  | 'BAD_GGUF'
  | 'TRUNCATED'
  | 'UNSUPPORTED_TYPE'
  | 'CONTEXT_OVERFLOW'
  | 'MODEL_ERROR';

/** Marks a BitnetError made by any copy of this library: dist/worker.js and dist/browser.js (or the
 *  ESM and CommonJS builds) each bundle the class, and `instanceof` holds across them. */
const BRAND = Symbol.for('bitnet-wasm.BitnetError');

export class BitnetError extends Error {
  static [Symbol.hasInstance](v: unknown): boolean { return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[BRAND] === true; }

  readonly code: BitnetErrorCode;
  /** Byte offset in the input where the problem was found (file formats only). */
  readonly offset?: number;
  constructor(code: BitnetErrorCode, message: string, options?: { offset?: number; cause?: unknown }) {
    super(`${code}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BitnetError';
    Object.defineProperty(this, BRAND, { value: true });
    this.code = code;
    if (options?.offset !== undefined) this.offset = options.offset;
  }
}
