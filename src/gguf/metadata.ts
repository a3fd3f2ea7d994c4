/**
 * GGUF metadata values carry their wire type explicitly, so a file read and written back is
 * byte-identical (a u32 stays a u32, an f32 stays an f32) and writers must say what they mean.
 */

/** Wire value types, indexed by their GGUF id (0 u8 ... 12 f64). */
export const GGUF_VALUE_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const;
export type GGUFValueType = (typeof GGUF_VALUE_TYPES)[number];

export type GGUFNumberType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64';
export type GGUFBigIntType = 'u64' | 'i64';

/** Arrays: the reader returns typed arrays for numeric items (Uint8Array for u8, BigInt64Array for
 *  i64, ...); writers may pass any array-like of the right element kind. */
export type GGUFArrayValue =
  | { type: 'array'; itemType: GGUFNumberType; value: ArrayLike<number> }
  | { type: 'array'; itemType: GGUFBigIntType; value: ArrayLike<bigint> }
  | { type: 'array'; itemType: 'bool'; value: ArrayLike<boolean> }
  | { type: 'array'; itemType: 'string'; value: ArrayLike<string> }
  | { type: 'array'; itemType: 'array'; value: ArrayLike<GGUFArrayValue> };

export type GGUFValue =
  | { type: GGUFNumberType; value: number }
  | { type: GGUFBigIntType; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | GGUFArrayValue;

/** Fixed byte size of scalar wire types (strings and arrays are variable). */
export const GGUF_SCALAR_SIZE: Partial<Record<GGUFValueType, number>> = {
  u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, u64: 8, i64: 8, f64: 8,
};

/** Smallest number of bytes one item of this type can occupy (for count-vs-size checks). */
export function minItemBytes(t: GGUFValueType): number {
  if (t === 'string') return 8; // u64 length, possibly empty
  if (t === 'array') return 12; // u32 item type + u64 count
  return GGUF_SCALAR_SIZE[t]!;
}
