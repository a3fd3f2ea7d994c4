// The ternary kernels and the weight layouts they read, one row each. Everything that asks which
// kernels exist, which layout one reads, or how big a packed matrix is reads these rows: the public
// ids (KERNEL_IDS), calibration (src/calibrate.ts), the memory estimate (src/model/inspect.ts) and
// the tests. The wasm keeps the same rows (assembly/ternary/kernels.ts, assembly/ternary/layouts.ts);
// test/abi.test.ts checks that the compiled wasm answers what these rows say, on every build.
import { KERNEL, LAYOUT } from './abi.js';

export interface LayoutRow {
  readonly id: number;
  readonly name: string;
  /** Rows and columns are padded with zero weights to multiples of these. */
  readonly rowMultiple: number;
  readonly colMultiple: number;
  /** Packed bytes = paddedRows * (paddedCols / groupCols * groupBytes + rowBytes). */
  readonly groupCols: number;
  readonly groupBytes: number;
  readonly rowBytes: number;
}

/** By id (abi.ts LAYOUT). See assembly/ternary/layouts.ts for what each stores. */
export const LAYOUTS = [
  { id: LAYOUT.I8, name: 'i8', rowMultiple: 1, colMultiple: 1, groupCols: 1, groupBytes: 1, rowBytes: 0 },
  { id: LAYOUT.I2, name: 'i2', rowMultiple: 4, colMultiple: 64, groupCols: 4, groupBytes: 1, rowBytes: 0 },
  // 3 trits in 5 bits, 8 groups of 3 columns in 5 bytes; one i32 per row (its count of minus signs)
  { id: LAYOUT.TL3, name: 'tl3', rowMultiple: 16, colMultiple: 24, groupCols: 24, groupBytes: 5, rowBytes: 4 },
] as const satisfies readonly LayoutRow[];

export type LayoutName = (typeof LAYOUTS)[number]['name'];

/** Layout names by layout id. */
export const LAYOUT_NAMES: readonly LayoutName[] = LAYOUTS.map((l) => l.name);

const layoutRow = (layout: LayoutName): LayoutRow => LAYOUTS.find((l) => l.name === layout)!;
const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Bytes a rows x cols matrix takes packed in `layout` (the wasm's packed_bytes). */
export function packedBytes(layout: LayoutName, rows: number, cols: number): number {
  const l = layoutRow(layout);
  return roundUp(rows, l.rowMultiple) * ((roundUp(cols, l.colMultiple) / l.groupCols) * l.groupBytes + l.rowBytes);
}

/** Storage per weight of `layout` without padding, in bits. */
export function layoutBits(layout: LayoutName): number {
  const l = layoutRow(layout);
  return (l.groupBytes * 8) / l.groupCols;
}

export type KernelRole = 'gemv' | 'gemm';

export interface KernelRow {
  readonly id: number;
  /** Public name (KernelName). */
  readonly name: string;
  readonly layout: LayoutName;
  /** Needs relaxed SIMD (only the relaxed build has it); else every build has it. */
  readonly relaxed: boolean;
  /** What calibration may choose it for: one-token products (decode) and n > 1 (prefill). The
   *  scalar reference kernel has none: it is only run when asked for by name. */
  readonly roles: readonly KernelRole[];
  /** Where this kernel runs another one's code (assembly/ternary/matmul.ts, matmul_rows): `gemv`
   *  for one-token products with or without the streaming hint (MATMUL.STREAMING), `gemvHot` only
   *  without it, `gemm` for n > 1. Calibration times the other one only: timing the same code
   *  twice lets noise choose between two names. */
  readonly same?: { readonly gemv?: string; readonly gemvHot?: string; readonly gemm?: string };
}

/** By id (abi.ts KERNEL). The kernels themselves: assembly/ternary/ (matmul.ts dispatches). */
export const KERNELS = [
  { id: KERNEL.SCALAR, name: 'scalar', layout: 'i8', relaxed: false, roles: [] },
  { id: KERNEL.TL3, name: 'tl3', layout: 'tl3', relaxed: false, roles: ['gemv', 'gemm'] },
  { id: KERNEL.TL3_RELAXED, name: 'tl3-relaxed', layout: 'tl3', relaxed: true, roles: ['gemv', 'gemm'] },
  { id: KERNEL.I2_DOT32, name: 'i2-dot32', layout: 'i2', relaxed: true, roles: ['gemv', 'gemm'] },
  // One token: i2-dot32's loop without touch-ahead (the streaming hint is ignored).
  { id: KERNEL.I2_DOT16, name: 'i2-dot16', layout: 'i2', relaxed: true, roles: ['gemv', 'gemm'], same: { gemvHot: 'i2-dot32' } },
  // i2-dot32 for one token, i2-dot16 for more
  { id: KERNEL.I2_DOT, name: 'i2-dot', layout: 'i2', relaxed: true, roles: ['gemv', 'gemm'], same: { gemv: 'i2-dot32', gemm: 'i2-dot16' } },
] as const satisfies readonly KernelRow[];

export type KernelName = (typeof KERNELS)[number]['name'];

/** Kernel ids by public name. */
export const KERNEL_IDS = Object.fromEntries(KERNELS.map((k) => [k.name, k.id])) as { readonly [K in KernelName]: number };
export const KERNEL_NAMES = KERNELS.map((k) => k.name) as KernelName[];

/** The row of a kernel, by public name. */
export function kernelRow(name: KernelName): KernelRow {
  return KERNELS.find((k) => k.name === name)!;
}

/** The kernel whose code `kernel` runs for `role` (itself unless its row's `same` names another);
 *  `streaming`: one-token products with the streaming hint. */
export function sameCode(kernel: KernelName, role: KernelRole, streaming = false): KernelName {
  const s = kernelRow(kernel).same;
  return ((role === 'gemm' ? s?.gemm : s?.gemv ?? (streaming ? undefined : s?.gemvHot)) ?? kernel) as KernelName;
}
