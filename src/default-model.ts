// The model shipped in the package: models/default.gguf, also the package export
// `bitnet-wasm/models/default.gguf` (for `import.meta.resolve` and bundlers' `?url`).
import { BitnetError } from './errors.js';

/**
 * Where the shipped model is, for this runtime: a `file:` URL in Node, Deno and Bun (pass it to
 * loadModel), and in a browser the URL next to the package's own files (right when the package is
 * served as files, e.g. through an import map or a CDN). In a bundled app, let the bundler give the
 * URL: `import modelUrl from 'bitnet-wasm/models/default.gguf?url'` (vite) or
 * `new URL('bitnet-wasm/models/default.gguf', import.meta.url)` (webpack 5).
 */
export function defaultModelUrl(): URL {
  // A variable base on purpose: with `new URL('literal', import.meta.url)` bundlers would copy the
  // 2 MB model into every app, used or not.
  const here = import.meta.url;
  if (typeof here !== 'string') {
    throw new BitnetError('BAD_ARGUMENT', 'this host gives modules no URL (workerd): bundle models/default.gguf as a data module and pass its bytes to loadModel');
  }
  return new URL('../models/default.gguf', here);
}
