// The live taps of a convolution's weights (backends/wasm/conv-taps.ts): gathered into a
// compact copy before the convolution over the cropped kernel, and its weight gradient
// scattered back after. Rows are split between shares; a copy does not depend on who made it.

/** Rows a block of the zeroing scatter covers: zeroed, then written, while in cache. */
const BLOCK_ROWS = 256;

/**
 * Share `share` of `shares` of the task at `desc` (i32 words): 0 direction (0 gather: part ←
 * full, 1 scatter: full ← part, 2 scatter that zeroes the other taps of full's rows: a weight
 * gradient, whose dropped taps get nothing), 1 rows, 2 taps per row of the full kernel (fullK), 3 live taps
 * k, 4 full [rows, fullK], 5 part [rows, k], 6… the k tap offsets within a row of full.
 */
export function tapsTask(desc: usize, share: i32, shares: i32): void {
  const direction = load<i32>(desc);
  const rows = load<i32>(desc, 4);
  const fullK = load<i32>(desc, 8);
  const r0 = <i32>((<i64>rows * share) / shares);
  const r1 = <i32>((<i64>rows * (share + 1)) / shares);
  if (direction != 2) {
    copyRows(desc, direction != 0, r0, r1);
    return;
  }
  const full = <usize>load<i32>(desc, 16);
  for (let b = r0; b < r1; b += BLOCK_ROWS) {
    const e = min(r1, b + BLOCK_ROWS);
    memory.fill(full + <usize>b * <usize>fullK * 4, 0, <usize>(e - b) * <usize>fullK * 4);
    copyRows(desc, true, b, e);
  }
}

/** Rows [r0, r1): part ← full's taps, or with `scatter` full's taps ← part. */
function copyRows(desc: usize, scatter: bool, r0: i32, r1: i32): void {
  const fullK = load<i32>(desc, 8);
  const k = load<i32>(desc, 12);
  const full = <usize>load<i32>(desc, 16);
  const part = <usize>load<i32>(desc, 20);
  const offs = desc + 24;
  if (k == 1) {
    // One live tap (a 3×3 kernel over 1×1 maps): a strided copy.
    let f = full + (<usize>r0 * <usize>fullK + <usize>load<i32>(offs)) * 4;
    const stride = <usize>fullK * 4;
    for (let r = r0; r < r1; r++, f += stride) {
      const p = part + <usize>r * 4;
      if (scatter) store<f32>(f, load<f32>(p));
      else store<f32>(p, load<f32>(f));
    }
    return;
  }
  for (let r = r0; r < r1; r++) {
    const f = full + <usize>r * <usize>fullK * 4;
    const p = part + <usize>r * <usize>k * 4;
    for (let j = 0; j < k; j++) {
      const at = f + <usize>load<i32>(offs + <usize>j * 4) * 4;
      if (scatter) store<f32>(at, load<f32>(p + <usize>j * 4));
      else store<f32>(p + <usize>j * 4, load<f32>(at));
    }
  }
}
