// Reads a GGUF file into editable parts (metadata, tensors with their encoded bytes) and writes it
// back: the structure-aware edits of the hostile-file tests and the fuzz harness.
import { fromBytes, parseGGUFHeader, readTensorData, writeGGUF, type GGUFValue } from '../../src/gguf/index.js';

export interface Parts {
  metadata: Map<string, GGUFValue>;
  tensors: { name: string; shape: number[]; type: number; data: Uint8Array }[];
}

export async function split(bytes: Uint8Array): Promise<Parts> {
  const src = fromBytes(bytes);
  const h = await parseGGUFHeader(src);
  const data = new Map<string, Uint8Array>();
  await readTensorData(src, h, (t, chunk, off) => {
    if (!data.has(t.name)) data.set(t.name, new Uint8Array(t.byteSize));
    data.get(t.name)!.set(chunk, off);
  });
  const metadata = new Map(h.metadata);
  metadata.delete('general.alignment');
  return { metadata, tensors: h.tensors.map((t) => ({ name: t.name, shape: t.shape.slice(), type: t.type, data: data.get(t.name)! })) };
}

export function join(p: Parts): Uint8Array {
  return writeGGUF({ metadata: p.metadata, tensors: p.tensors });
}

export async function edit(bytes: Uint8Array, f: (p: Parts) => void): Promise<Uint8Array> {
  const p = await split(bytes);
  f(p);
  return join(p);
}
