// `import mod from './x.wasm'` in workerd (and wrangler, and bundlers configured for it) yields a
// compiled WebAssembly.Module.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}

// `import b64 from './x.wasm?base64'`: the file's bytes as base64 (rollup.config.mjs, browser entry).
declare module '*.wasm?base64' {
  const base64: string;
  export default base64;
}

// `import text from './engine-worker.js?source'`: that entry's bundle as text (rollup.config.mjs, worker entry).
declare module '*.js?source' {
  const text: string;
  export default text;
}
