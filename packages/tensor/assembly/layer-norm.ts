// Layer normalisation over the rows of a float32 [rows, n] array, fused: one pass for the sum,
// one for the centred squares, one to normalise, scale and shift; the backward in two passes
// per row. See backends/reference/layer-norm.ts for the formulas (the spec these follow up to
// float32 rounding: sums here are float32 in four lanes, in a fixed order).
//
// Only plain SIMD (no relaxed FMA), so the SIMD and relaxed-SIMD builds give the same bits. A
// row's arithmetic does not depend on which thread runs it, and the column sums of the backward
// (dweight, dbias) go to one partial row per share, whose count the caller fixes from the
// geometry alone, so results are the same bits on any thread count.

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * Rows [r0, r1): out = (x − mean)·rstd·w + b (w, b: n floats, or 0 for none), and each row's
 * mean and rstd = 1/√(var + eps) into `mean`/`rstd` (one float per row).
 */
export function layerNormRowsF32(x: usize, w: usize, b: usize, out: usize, mean: usize, rstd: usize, r0: i32, r1: i32, n: i32, eps: f64): void {
  const nf = <f32>n;
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * <usize>n * 4;
    const or = out + <usize>r * <usize>n * 4;
    let sv = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) sv = f32x4.add(sv, v128.load(xr + <usize>j * 4));
    let s = hsum(sv);
    for (; j < n; j++) s += load<f32>(xr + <usize>j * 4);
    const m = s / nf;
    const mv = f32x4.splat(m);
    let qv = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= n; j += 4) {
      const d = f32x4.sub(v128.load(xr + <usize>j * 4), mv);
      qv = f32x4.add(qv, f32x4.mul(d, d));
    }
    let q = hsum(qv);
    for (; j < n; j++) {
      const d = load<f32>(xr + <usize>j * 4) - m;
      q += d * d;
    }
    // The reciprocal square root in f64, rounded once, as the reference rounds it.
    const rs = <f32>(1.0 / Math.sqrt(<f64>(q / nf) + eps));
    store<f32>(mean + <usize>r * 4, m);
    store<f32>(rstd + <usize>r * 4, rs);
    const rv = f32x4.splat(rs);
    j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j * 4;
      let y = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      if (w) y = f32x4.mul(y, v128.load(w + o));
      if (b) y = f32x4.add(y, v128.load(b + o));
      v128.store(or + o, y);
    }
    for (; j < n; j++) {
      const o = <usize>j * 4;
      let y = (load<f32>(xr + o) - m) * rs;
      if (w) y *= load<f32>(w + o);
      if (b) y += load<f32>(b + o);
      store<f32>(or + o, y);
    }
  }
}

/**
 * Rows [r0, r1) of the backward: dx = rstd·(g − Σg/n − x̂·Σ(g·x̂)/n) with x̂ = (x − mean)·rstd and
 * g = dy·w (dx = 0: not wanted), and dy·x̂ and dy added onto the partial column sums pw and pb
 * (n floats each, or 0: not wanted) with the rows in order.
 */
export function layerNormBackwardRowsF32(
  x: usize, dy: usize, w: usize, mean: usize, rstd: usize, dx: usize, pw: usize, pb: usize, r0: i32, r1: i32, n: i32,
): void {
  const nf = <f32>n;
  for (let r = r0; r < r1; r++) {
    const off = <usize>r * <usize>n * 4;
    const xr = x + off, gr = dy + off, dr = dx + off;
    const m = load<f32>(mean + <usize>r * 4);
    const rs = load<f32>(rstd + <usize>r * 4);
    const mv = f32x4.splat(m), rv = f32x4.splat(rs);
    let sgv = f32x4.splat(0), sxv = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j * 4;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      const d = v128.load(gr + o);
      const g = w ? f32x4.mul(d, v128.load(w + o)) : d;
      sgv = f32x4.add(sgv, g);
      sxv = f32x4.add(sxv, f32x4.mul(g, xh));
      if (pw) v128.store(pw + o, f32x4.add(v128.load(pw + o), f32x4.mul(d, xh)));
      if (pb) v128.store(pb + o, f32x4.add(v128.load(pb + o), d));
    }
    let sg = hsum(sgv), sx = hsum(sxv);
    for (; j < n; j++) {
      const o = <usize>j * 4;
      const xh = (load<f32>(xr + o) - m) * rs;
      const d = load<f32>(gr + o);
      const g = w ? d * load<f32>(w + o) : d;
      sg += g;
      sx += g * xh;
      if (pw) store<f32>(pw + o, load<f32>(pw + o) + d * xh);
      if (pb) store<f32>(pb + o, load<f32>(pb + o) + d);
    }
    if (!dx) continue;
    const a0 = sg / nf, a1 = sx / nf;
    const a0v = f32x4.splat(a0), a1v = f32x4.splat(a1);
    j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j * 4;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      const d = v128.load(gr + o);
      const g = w ? f32x4.mul(d, v128.load(w + o)) : d;
      v128.store(dr + o, f32x4.mul(rv, f32x4.sub(f32x4.sub(g, a0v), f32x4.mul(xh, a1v))));
    }
    for (; j < n; j++) {
      const o = <usize>j * 4;
      const xh = (load<f32>(xr + o) - m) * rs;
      const d = load<f32>(gr + o);
      const g = w ? d * load<f32>(w + o) : d;
      store<f32>(dr + o, rs * ((g - a0) - xh * a1));
    }
  }
}

/** Pointer word k of a layer-norm task descriptor (after direction, rows and n). */
@inline function ptr(desc: usize, k: i32): usize {
  return <usize>load<i32>(desc + <usize>(12 + 4 * k));
}

/**
 * Share `share` of `shares` of one layer-norm pass described at `desc`: i32 words direction
 * (0 forward, 1 backward), rows, n, then forward: x, w, b, out, mean, rstd; backward: x, dy, w,
 * mean, rstd, dx, pw, pb (pointers, 0 for none); the forward's eps as an f64 at byte 48. A share
 * is a fixed block of whole rows; in the backward it zeroes and fills its own partial rows
 * pw + share·n and pb + share·n, which the caller adds up in share order.
 */
export function layerNormTask(desc: usize, share: i32, shares: i32): void {
  const rows = load<i32>(desc, 4);
  const n = load<i32>(desc, 8);
  const r0 = <i32>(<i64>rows * share / shares);
  const r1 = <i32>(<i64>rows * (share + 1) / shares);
  if (load<i32>(desc) == 0) {
    if (r0 < r1) layerNormRowsF32(ptr(desc, 0), ptr(desc, 1), ptr(desc, 2), ptr(desc, 3), ptr(desc, 4), ptr(desc, 5), r0, r1, n, load<f64>(desc, 48));
    return;
  }
  const part = <usize>share * <usize>n * 4;
  let pw = ptr(desc, 6), pb = ptr(desc, 7);
  if (pw) { pw += part; memory.fill(pw, 0, <usize>n * 4); }
  if (pb) { pb += part; memory.fill(pb, 0, <usize>n * 4); }
  if (r0 < r1) layerNormBackwardRowsF32(ptr(desc, 0), ptr(desc, 1), ptr(desc, 2), ptr(desc, 3), ptr(desc, 4), ptr(desc, 5), pw, pb, r0, r1, n);
}
