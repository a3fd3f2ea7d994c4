// The kernel table: one row per kernel id (../abi.ts KERNEL_*, in id order). bindings/kernels.ts
// KERNELS is the JS side's copy (with names and calibration roles); test/abi.test.ts checks that
// kernel_layout / kernel_available below answer what its rows say, on every build. Adding a kernel:
// a row here and there, its id in both abi.ts files, its branch in matmul.ts's dispatch.
import { KERNEL_COUNT, LAYOUT_I2, LAYOUT_I8, LAYOUT_TL3 } from "../abi";

// Per kernel: the layout it reads, 1 when it needs relaxed SIMD.
const KERNELS = memory.data<i32>([
  LAYOUT_I8, 0,  // KERNEL_SCALAR
  LAYOUT_TL3, 0, // KERNEL_TL3
  LAYOUT_TL3, 1, // KERNEL_TL3_RELAXED
  LAYOUT_I2, 1,  // KERNEL_I2_DOT32
  LAYOUT_I2, 1,  // KERNEL_I2_DOT16
  LAYOUT_I2, 1,  // KERNEL_I2_DOT
]);

/** The layout `kernel` reads (LAYOUT_I8 for an unknown id). */
export function kernel_layout(kernel: i32): i32 {
  return <u32>kernel < <u32>KERNEL_COUNT ? load<i32>(KERNELS + (<usize>kernel << 3)) : LAYOUT_I8;
}

/** True when this build has `kernel`. */
export function kernel_available(kernel: i32): bool {
  return <u32>kernel < <u32>KERNEL_COUNT && (ASC_FEATURE_RELAXED_SIMD || load<i32>(KERNELS + (<usize>kernel << 3), 4) == 0);
}
