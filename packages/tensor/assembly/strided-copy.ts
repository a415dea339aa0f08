// Strided float32 copies into a contiguous output: permute, expand, slice and flip read their
// input through (shape, strides, offset) — the data movement of attention's head split and merge
// and of every permute's gradient. The shape arrives collapsed (plan.ts) to at most four dims
// [d0, d1, d2, inner] with element strides [s0, s1, s2, si]; the output is [d0·d1·d2, inner]
// rows, split across shares by row. A copy has no arithmetic, so results never depend on the
// thread count.

@inline function copyRun(dst: usize, src: usize, inner: i32, si: i32): void {
  if (si == 1) {
    let t = 0;
    for (; t + 16 <= inner; t += 16) {
      const o = <usize>t * 4;
      v128.store(dst + o, v128.load(src + o));
      v128.store(dst + o + 16, v128.load(src + o + 16));
      v128.store(dst + o + 32, v128.load(src + o + 32));
      v128.store(dst + o + 48, v128.load(src + o + 48));
    }
    for (; t + 4 <= inner; t += 4) v128.store(dst + <usize>t * 4, v128.load(src + <usize>t * 4));
    for (; t < inner; t++) store<f32>(dst + <usize>t * 4, load<f32>(src + <usize>t * 4));
    return;
  }
  // A transposed or broadcast inner dim: gather (a stride of 0 repeats one value).
  const step = <isize>si * 4;
  let s = <isize>src;
  for (let t = 0; t < inner; t++, s += step) store<f32>(dst + <usize>t * 4, load<f32>(<usize>s));
}

/**
 * Share `share` of `shares` of the copy described at `desc` (i32 words): x (byte address of the
 * first element read, offset included), out, d0, d1, d2, inner, s0, s1, s2, si (element strides,
 * any sign).
 */
export function stridedCopyTask(desc: usize, share: i32, shares: i32): void {
  const x = <isize>load<i32>(desc), out = <usize>load<i32>(desc, 4);
  const d1 = load<i32>(desc, 12), d2 = load<i32>(desc, 16), inner = load<i32>(desc, 20);
  const s0 = <isize>load<i32>(desc, 24), s1 = <isize>load<i32>(desc, 28), s2 = <isize>load<i32>(desc, 32);
  const si = load<i32>(desc, 36);
  const rows = load<i32>(desc, 8) * d1 * d2;
  const r0 = <i32>(<i64>rows * share / shares);
  const r1 = <i32>(<i64>rows * (share + 1) / shares);
  if (r0 >= r1) return;
  // The starting row's index (i0, i1, i2), then an odometer over the three outer dims.
  let i2 = r0 % d2;
  let i1 = (r0 / d2) % d1;
  let i0 = r0 / (d2 * d1);
  let src = x + (<isize>i0 * s0 + <isize>i1 * s1 + <isize>i2 * s2) * 4;
  let dst = out + <usize>r0 * <usize>inner * 4;
  const rowBytes = <usize>inner * 4;
  for (let r = r0; r < r1; r++) {
    copyRun(dst, <usize>src, inner, si);
    dst += rowBytes;
    src += s2 * 4;
    if (++i2 < d2) continue;
    i2 = 0;
    src += (s1 - s2 * <isize>d2) * 4;
    if (++i1 < d1) continue;
    i1 = 0;
    src += (s0 - s1 * <isize>d1) * 4;
    i0++;
  }
}
