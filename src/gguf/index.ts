/** GGUF container support: type table, incremental reader, byte sources, writer. */
export { BitnetError } from '../errors.js';
export {
  GGMLType,
  GGML_TYPES,
  ggmlTypeInfo,
  ternaryTraits,
  TERNARY_TYPE_NAMES,
  tensorByteSize,
  elementCount,
  dequantize,
  quantize,
  type GGMLTypeInfo,
  type GGMLTypeName,
  type TernaryTraits,
} from './types.js';
export { f32ToF16Bits, f16BitsToF32, f32ToBF16Bits, bf16BitsToF32 } from './half.js';
export {
  GGUF_VALUE_TYPES,
  type GGUFValue,
  type GGUFArrayValue,
  type GGUFValueType,
  type GGUFNumberType,
  type GGUFBigIntType,
} from './metadata.js';
export { fromBytes, fromBlob, fromFile, fromStream, fromUrl, toByteSource, type ByteSource, type GGUFInput, type UrlSourceOptions } from './source.js';
export {
  parseGGUFHeader,
  readTensorData,
  readTensorPieces,
  readTensorBytes,
  metadataValue,
  GGUF_MAGIC,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_LIMITS,
  type GGUFHeader,
  type GGUFTensorInfo,
  type ParseOptions,
  type TensorSink,
  type TensorPiece,
  type ReadTensorDataOptions,
} from './reader.js';
export { writeGGUF, writeGGUFChunks, encodeTensorData, GGML_MAX_NAME_BYTES, type GGUFWriteOptions, type GGUFWriteTensor } from './writer.js';
