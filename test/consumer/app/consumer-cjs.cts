// The CommonJS side of the types (dist/index.d.cts through the "require" condition).
import bitnet = require('bitnet-wasm');

export async function load(): Promise<number> {
  const model = await bitnet.loadModel(bitnet.defaultModelUrl());
  const n: number = model.byteLength;
  model.dispose();
  return n;
}
