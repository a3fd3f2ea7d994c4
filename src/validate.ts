// Argument checks shared by the public API: every bad input becomes a typed BitnetError.
import { BitnetError } from './errors.js';

export function checkDim(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0x7fffffff) {
    throw new BitnetError('BAD_SHAPE', `${name} must be a positive integer below 2^31, got ${String(v)}`);
  }
  return v;
}

export function checkArray<T extends ArrayBufferView>(name: string, v: unknown, ctor: { new (n: number): T; name: string }, length: number): T {
  if (!(v instanceof (ctor as unknown as typeof Int8Array))) {
    throw new BitnetError('BAD_ARGUMENT', `${name} must be a ${ctor.name}, got ${v === null ? 'null' : typeof v === 'object' ? (v as object).constructor?.name : typeof v}`);
  }
  const len = (v as unknown as { length: number }).length;
  if (len !== length) throw new BitnetError('BAD_LENGTH', `${name} has length ${len}, expected ${length}`);
  return v as unknown as T;
}

export function checkFinite(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BitnetError('BAD_ARGUMENT', `${name} must be a finite number, got ${String(v)}`);
  return v;
}
