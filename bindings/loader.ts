// Turns whatever the host can provide (a compiled Module, the bytes, or a URL) into a compiled
// WebAssembly.Module. This is the one seam between runtimes: workerd can only hand over a Module,
// browsers fetch, Node reads files.
import { BitnetError } from './errors.js';
import { type WasmFile, wasmFileUrl } from './wasm-location.js';
import type { CompiledWasmModule, WasmBytes } from './wasm-types.js';

export interface WasmSource {
  module?: CompiledWasmModule;
  bytes?: WasmBytes;
  url?: string | URL;
}

// Sources a runtime-specific entry registers at import time (dist/workerd.js hands over the two
// modules workerd imported; `import.meta.url` is undefined there, so the default location cannot work).
const defaultSources: Partial<Record<WasmFile, WasmSource>> = {};

/** Registers where each build comes from when init() / createRuntime() are given no source. */
export function setDefaultWasmSources(sources: Partial<Record<WasmFile, WasmSource>>): void {
  Object.assign(defaultSources, sources);
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return !!p?.versions?.node && !('Deno' in globalThis) && !('Bun' in globalThis);
}

async function readFileUrl(url: URL): Promise<ArrayBuffer> {
  // Node's fetch() refuses file: URLs.
  const { readFile } = await import('node:fs/promises');
  const buf = await readFile(url);
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

async function fetchOk(url: URL): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new BitnetError('WASM_LOAD_FAILED', `fetching ${url.href} gave HTTP ${res.status}`);
  return res;
}

/** fetch + compileStreaming where the engine has it and the response allows it (a server that does
 *  not send `application/wasm`, or Deno/Bun file: responses without a type): else arrayBuffer + compile.
 *  A CompileError (e.g. relaxed SIMD unknown to the engine) is final: the bytes would not compile either. */
async function compileUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:' && isNode()) return WebAssembly.compile(await readFileUrl(url));
  if (typeof WebAssembly.compileStreaming === 'function') {
    const res = await fetchOk(url);
    const type = res.headers.get('content-type') ?? '';
    if (/^application\/wasm\b/i.test(type)) {
      try {
        return await WebAssembly.compileStreaming(res);
      } catch (e) {
        if (e instanceof WebAssembly.CompileError) throw e;
        // TypeError from the streaming path (e.g. a proxy rewrote the response): fall back below.
      }
    } else {
      return WebAssembly.compile(await res.arrayBuffer());
    }
  }
  return WebAssembly.compile(await (await fetchOk(url)).arrayBuffer());
}

/** Compiles the module of one build from an explicit source, or from the default location. */
export async function compileBuild(build: WasmFile, source?: WasmSource): Promise<WebAssembly.Module> {
  try {
    const src = source ?? defaultSources[build];
    if (src?.module) return src.module as WebAssembly.Module;
    if (src?.bytes) return await WebAssembly.compile(src.bytes as BufferSource);
    let url: URL;
    if (src?.url) {
      const base = typeof import.meta.url === 'string' ? import.meta.url : typeof location !== 'undefined' ? location.href : undefined;
      url = new URL(String(src.url), base);
    }
    else {
      if (typeof import.meta.url !== 'string') {
        throw new BitnetError('WASM_LOAD_FAILED', `this host gives modules no URL (workerd?): import the wasm yourself and call init({ sources: { ${build}: { module } } }), or import 'bitnet-wasm' through its "workerd" export`);
      }
      url = wasmFileUrl(build);
    }
    return await compileUrl(url);
  } catch (e) {
    if (e instanceof BitnetError) throw e;
    throw new BitnetError('WASM_LOAD_FAILED', `could not compile the ${build} build: ${(e as Error).message}`, { cause: e });
  }
}
