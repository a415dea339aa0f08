// relu and its gradient over large float32 arrays: one compare and one bitwise AND per four
// values. A lane's mask is all ones exactly where x > 0 (false for NaN, ±0 and negatives), so
// the result is x (or dy) bit for bit there and +0 elsewhere, as in the reference.

export function reluF32(x: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + <usize>i * 4);
    v128.store(out + <usize>i * 4, v128.and(v, f32x4.gt(v, zero)));
  }
  for (; i < n; i++) {
    const v = load<f32>(x + <usize>i * 4);
    store<f32>(out + <usize>i * 4, v > 0 ? v : 0);
  }
}

export function reluGradF32(dy: usize, x: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(out + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(x + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    store<f32>(out + o, load<f32>(x + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

// Arithmetic over large float32 arrays: op 0 add, 1 sub, 2 mul, 3 div. IEEE single-precision
// results, which equal what JavaScript computes in double precision and rounds to float32 (for
// +, −, ×, ÷ that double rounding is exact), so the reference's values come out bit for bit.

@inline function arith(op: i32, a: v128, b: v128): v128 {
  if (op == 0) return f32x4.add(a, b);
  if (op == 1) return f32x4.sub(a, b);
  if (op == 2) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

@inline function arithScalar(op: i32, a: f32, b: f32): f32 {
  if (op == 0) return a + b;
  if (op == 1) return a - b;
  if (op == 2) return a * b;
  return a / b;
}

/** out[i] = a[i] ∘ b[i], i < n. */
export function binaryF32(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(out + o, arith(op, v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    store<f32>(out + o, arithScalar(op, load<f32>(a + o), load<f32>(b + o)));
  }
}

/** out[r, j] = a[r, j] ∘ s[r] for rows r < M of `inner` values (a per-row, e.g. per-channel, operand). */
export function binaryRowsF32(op: i32, a: usize, s: usize, out: usize, M: i32, inner: i32): void {
  for (let r = 0; r < M; r++) {
    const bs = load<f32>(s + <usize>r * 4);
    const bv = f32x4.splat(bs);
    const base = <usize>(r * inner) * 4;
    let j = 0;
    for (; j + 4 <= inner; j += 4) {
      const o = base + <usize>j * 4;
      v128.store(out + o, arith(op, v128.load(a + o), bv));
    }
    for (; j < inner; j++) {
      const o = base + <usize>j * 4;
      store<f32>(out + o, arithScalar(op, load<f32>(a + o), bs));
    }
  }
}

/** out = x < lo ? lo : x > hi ? hi : x (NaN stays NaN, as the reference's comparisons leave it). */
export function clampF32(x: usize, out: usize, n: i32, lo: f32, hi: f32): void {
  const l = f32x4.splat(lo);
  const h = f32x4.splat(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    // pmax(v, lo) = v < lo ? lo : v and pmin(v, hi) = hi < v ? hi : v: the reference's comparisons, NaN kept.
    v128.store(out + o, f32x4.pmin(f32x4.pmax(v128.load(x + o), l), h));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const v = load<f32>(x + o);
    store<f32>(out + o, v < lo ? lo : v > hi ? hi : v);
  }
}

/** Two f64 rounded to f32 (in the low half). */
@inline function narrow(v: v128): v128 {
  return f32x4.demote_f64x2_zero(v);
}

/** Two f32 at p, widened to f64 (exact). */
@inline function widen(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/**
 * Share `share` (of `shares`) of column sums, the sum over the leading axes of a float32 array
 * (a dense layer's bias gradient): desc holds i32 words x, rows, len, out, and out[j] = the sum
 * over r of x[r·len + j], accumulated in f64 from +0 with the rows in order and rounded to f32
 * once — the reference's sum bit for bit (up to the sign of a NaN, which neither JavaScript nor
 * Wasm fixes). A share is a range of whole 8-column blocks.
 */
export function columnSumTask(desc: usize, share: i32, shares: i32): void {
  const x = <usize>load<i32>(desc);
  const rows = load<i32>(desc, 4);
  const len = load<i32>(desc, 8);
  const out = <usize>load<i32>(desc, 12);
  const per = ((len + shares * 8 - 1) / (shares * 8)) * 8;
  const j0 = share * per;
  const j1 = min(len, j0 + per);
  const rowBytes = <usize>len * 4;
  let j = j0;
  for (; j + 8 <= j1; j += 8) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    let p = x + <usize>j * 4;
    for (let r = 0; r < rows; r++, p += rowBytes) {
      a0 = f64x2.add(a0, widen(p));
      a1 = f64x2.add(a1, widen(p + 8));
      a2 = f64x2.add(a2, widen(p + 16));
      a3 = f64x2.add(a3, widen(p + 24));
    }
    const o = out + <usize>j * 4;
    v128.store64_lane(o, narrow(a0), 0);
    v128.store64_lane(o + 8, narrow(a1), 0);
    v128.store64_lane(o + 16, narrow(a2), 0);
    v128.store64_lane(o + 24, narrow(a3), 0);
  }
  for (; j < j1; j++) {
    let a: f64 = 0;
    let p = x + <usize>j * 4;
    for (let r = 0; r < rows; r++, p += rowBytes) a += <f64>load<f32>(p);
    store<f32>(out + <usize>j * 4, <f32>a);
  }
}
