// Known-answer test of the relaxed dot with a non-zero accumulator. Node 20's baseline tier
// computes i32x4.relaxed_dot_i8x16_i7x16_add_s as 2*dot and drops the accumulator; a module whose
// relaxed ops give wrong answers must not be used. Returns 1 when every lane is right.
export function selftest_relaxed_dot(): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  const a = i8x16(-127, 127, -1, 2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -127);
  const b = i8x16(2, 1, 0, 2, 127, 1, 2, 0, 1, 2, 0, 1, 2, 2, 1, 127);
  const c = i32x4(1000, -7, 123456, -99999);
  const d = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c);
  // lane sums of a*b over 4 consecutive bytes, plus c
  if (i32x4.extract_lane(d, 0) != 1000 + (-254 + 127 + 0 + 4)) return 0;
  if (i32x4.extract_lane(d, 1) != -7 + (381 - 4 + 10 + 0)) return 0;
  if (i32x4.extract_lane(d, 2) != 123456 + (7 - 16 + 0 - 10)) return 0;
  if (i32x4.extract_lane(d, 3) != -99999 + (22 - 24 + 13 - 16129)) return 0;
  const e = i16x8.relaxed_dot_i8x16_i7x16_s(a, b);
  if (i16x8.extract_lane_s(e, 0) != -254 + 127) return 0;
  if (i16x8.extract_lane_s(e, 7) != 13 - 16129) return 0;
  const s = i8x16.relaxed_swizzle(i8x16(0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, -1, -2, -3), i8x16(15, 0, 1, 14, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13));
  if (i8x16.extract_lane_s(s, 0) != -3 || i8x16.extract_lane_s(s, 3) != -2 || i8x16.extract_lane_s(s, 15) != -1) return 0;
  return 1;
}
