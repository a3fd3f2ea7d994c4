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

export class BitnetError extends Error {
  readonly code: BitnetErrorCode;
  /** Byte offset in the input where the problem was found (file formats only). */
  readonly offset?: number;
  constructor(code: BitnetErrorCode, message: string, options?: { offset?: number; cause?: unknown }) {
    super(`${code}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BitnetError';
    this.code = code;
    if (options?.offset !== undefined) this.offset = options.offset;
  }
}
