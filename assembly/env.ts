// AssemblyScript aborts become one import call with no message decoding (the JS side turns it
// into a BitnetError). The wasm allocates nothing (bindings/heap.ts does), so none is expected.
// @ts-ignore: decorator
@external("env", "bitnet_abort")
declare function bitnet_abort(code: i32): void;

export function abort(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  bitnet_abort(<i32>lineNumber);
  unreachable();
}
