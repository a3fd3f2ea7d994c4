// The messages between a page and its engine worker (proxy.ts <-> host.ts), and what cannot be
// structured-cloned crossing as markers: option callbacks (onText, onProgress, ...) become events,
// an AbortSignal becomes an 'abort' message, a file: URL its href. Errors cross as plain fields
// and are re-created on the page as the same BitnetError (code, message, offset).
import { BitnetError, type BitnetErrorCode } from '../errors.js';

/** What postMessage needs: a Worker, a DedicatedWorkerGlobalScope or a MessagePort. */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer?: unknown[]): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

/** A Worker (structurally: no DOM types in the public declarations). */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: unknown[]): void;
  addEventListener(type: 'message' | 'error' | 'messageerror', listener: (ev: { data?: unknown; message?: string }) => void): void;
  terminate(): void;
}

/** Handle 0 is the engine itself (loadModel, kernelInfo); the others are models, sequences, chats. */
export type ToWorker =
  | { t: 'call'; id: number; target: number; method: string; args: unknown[] }
  | { t: 'abort'; id: number }
  | { t: 'credit'; id: number; n: number }
  | { t: 'return'; id: number };

export type FromWorker =
  | { t: 'result'; id: number; value: unknown }
  | { t: 'error'; id: number; error: WireError }
  | { t: 'event'; id: number; name: string; args: unknown[] }
  | { t: 'yield'; id: number; value: unknown }
  | { t: 'done'; id: number; value: unknown };

export interface WireError { name: string; message: string; code?: string; offset?: number; stack?: string }

/** Markers for what does not clone. */
export const CALLBACK = '__bitnetCallback', SIGNAL = '__bitnetSignal', FILE_URL = '__bitnetFileUrl';

export function toWire(e: unknown): WireError {
  if (e instanceof BitnetError) {
    // The code is kept separately; the message without its "CODE: " prefix (the constructor adds it again).
    return { name: e.name, code: e.code, message: e.message.replace(`${e.code}: `, ''), offset: e.offset, stack: e.stack };
  }
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

export function fromWire(w: WireError): Error {
  if (w.code) {
    const e = new BitnetError(w.code as BitnetErrorCode, w.message, w.offset === undefined ? undefined : { offset: w.offset });
    if (w.stack) e.stack = `${w.stack}\n    (in the engine worker)`;
    return e;
  }
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

/** Buffers a value can hand over without a copy: those of typed arrays (not shared memory). */
export function transferables(value: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (b: ArrayBufferLike) => { if (b instanceof ArrayBuffer && !out.includes(b)) out.push(b); };
  if (value instanceof ArrayBuffer) add(value);
  else if (ArrayBuffer.isView(value)) add(value.buffer);
  return out;
}
