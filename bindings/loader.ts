// Turns whatever the host can provide (a compiled Module, the bytes, or a URL) into a compiled
// WebAssembly.Module. This is the one seam between runtimes: workerd can only hand over a Module,
// browsers fetch, Node reads files.
import { BitnetError } from '../src/errors.js';
import { type BuildName, wasmFileUrl } from './wasm-location.js';

export interface WasmSource {
  module?: WebAssembly.Module;
  bytes?: BufferSource;
  url?: string | URL;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return !!p?.versions?.node && !('Deno' in globalThis) && !('Bun' in globalThis);
}

async function fetchBytes(url: URL): Promise<ArrayBuffer> {
  if (url.protocol === 'file:' && isNode()) {
    // Node's fetch() refuses file: URLs.
    const { readFile } = await import('node:fs/promises');
    const buf = await readFile(url);
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }
  const res = await fetch(url);
  if (!res.ok) throw new BitnetError('WASM_LOAD_FAILED', `fetching ${url.href} gave HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** Compiles the module of one build from an explicit source, or from the default location. */
export async function compileBuild(build: BuildName, source?: WasmSource): Promise<WebAssembly.Module> {
  try {
    if (source?.module) return source.module;
    if (source?.bytes) return await WebAssembly.compile(source.bytes);
    const url = source?.url ? new URL(String(source.url), import.meta.url) : wasmFileUrl(build);
    return await WebAssembly.compile(await fetchBytes(url));
  } catch (e) {
    if (e instanceof BitnetError) throw e;
    throw new BitnetError('WASM_LOAD_FAILED', `could not compile the ${build} build: ${(e as Error).message}`, { cause: e });
  }
}
