// `import mod from './x.wasm'` in workerd (and wrangler, and bundlers configured for it) yields a
// compiled WebAssembly.Module.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
