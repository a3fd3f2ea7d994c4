// Where a model given as a string is: a URL (absolute, or relative to the page as fetch() takes it)
// or a file path. Shared by loadModel (src/model/model.ts) and the worker proxy (src/worker/proxy.ts),
// which resolves a relative URL on the page's side (a worker's base is not the page's).

/** In a page or a web worker, where strings are URLs relative to the document (as fetch() takes
 *  them): its base URL. Undefined where strings are file paths (Node, Deno, Bun) or there is no base. */
function pageBase(): string | undefined {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string }; process?: { versions?: { node?: string } }; Deno?: unknown; Bun?: unknown };
  if (g.process?.versions?.node || g.Deno || g.Bun) return undefined;
  return g.document?.baseURI ?? g.location?.href;
}

/** The URL a model string names: an http(s), blob: or data: URL as it is, else the string resolved
 *  against the page's base; undefined when it is a file path (no page base: Node, Deno, Bun). */
export function modelUrl(source: string): string | undefined {
  if (/^(https?|blob|data):/i.test(source)) return source;
  const base = pageBase();
  return base ? new URL(source, base).href : undefined;
}
