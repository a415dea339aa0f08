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
