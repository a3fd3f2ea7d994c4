/** The bytes of a wasm build inlined as base64 (the `?base64` imports of the entries). */
export const decodeBase64 = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
