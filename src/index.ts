export { BitnetError, type BitnetErrorCode } from './errors.js';
export { init, kernelInfo, createRuntime, type InitOptions, type KernelInfo, type BuildName, type KernelName, type WasmSource } from './init.js';
export { TernaryMatrix, type MatrixOptions } from './ternary-matrix.js';
export { quantizeActivations, type QuantizedActivations } from './activations.js';
export { DenseMatrix, type DenseFormat } from './dense-matrix.js';
export { KERNEL_IDS, KERNEL_NAMES } from '../bindings/exports.js';
