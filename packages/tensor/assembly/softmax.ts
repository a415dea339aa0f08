// Softmax and log-softmax over the rows of a float32 [rows, n] array, fused: one pass for the
// maximum, one for exp(x − max) and its sum, one to normalise; backward from the output alone.
// See backends/reference/softmax.ts for the formulas (the spec these follow up to float32
// rounding).
//
// exp is vectorised: x = k·ln2 + r with k = round(x·log2 e) (by adding 1.5·2^23, which also
// leaves k in the low bits) and |r| ≤ ln2/2 (Cody–Waite: ln2 split
// into a 9-bit high part, so k·hi is exact, and a low part), exp(r) by a degree-7 polynomial
// (Cephes' single-precision expf coefficients), times 2^k built in the exponent bits as two
// halves 2^(k>>1)·2^(k−(k>>1)), so subnormal results round once at the last multiply. Overflow
// (x > 88.72) gives +Infinity, underflow (x < −103.98) +0, NaN stays NaN. Only plain SIMD
// (no relaxed FMA), so the SIMD and relaxed-SIMD builds give the same bits; rows are independent
// and summed in a fixed order, so any split of rows across threads gives the same bits too.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
/** Above ln(FLT_MAX) the result is +Infinity; below ln(2^−150) it rounds to +0. */
const HI: f32 = 88.72283935546875;
const LO: f32 = -103.97208404541016;

/** 1.5·2^23: adding it rounds |v| < 2^22 to the nearest integer (ties to even) in the low mantissa bits. */
const MAGIC: f32 = 12582912.0;
const MAGIC_BITS: i32 = 0x4b400000;

/** exp of four lanes. */
@inline function expV(x: v128): v128 {
  // pmin/pmax keep x when it is NaN (x first) and are one instruction each on x86.
  const xc = f32x4.pmax(f32x4.pmin(x, f32x4.splat(HI)), f32x4.splat(LO));
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(MAGIC));
  const k = f32x4.sub(t, f32x4.splat(MAGIC));
  const ki = i32x4.sub(t, i32x4.splat(MAGIC_BITS));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(k, f32x4.splat(LN2_HI))), f32x4.mul(k, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(P0), r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // 2^k as 2^(k>>1)·2^(k−(k>>1)), both halves normal for −150 ≤ k ≤ 128.
  const k1 = i32x4.shr_s(ki, 1);
  const e1 = i32x4.shl(i32x4.add(k1, i32x4.splat(127)), 23);
  const e2 = i32x4.shl(i32x4.add(i32x4.sub(ki, k1), i32x4.splat(127)), 23);
  let e = f32x4.mul(f32x4.mul(y, e1), e2);
  e = v128.bitselect(f32x4.splat(Infinity), e, f32x4.gt(x, f32x4.splat(HI)));
  return v128.bitselect(f32x4.splat(0), e, f32x4.lt(x, f32x4.splat(LO)));
}

/** The same exp for one value (the rows' tails), so every element gets identical bits. */
@inline function expS(x: f32): f32 {
  return f32x4.extract_lane(expV(f32x4.splat(x)), 0);
}

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** out[i] = exp(x[i]), i < n (for tests of the vector exp). */
export function expF32(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + <usize>i * 4, expV(v128.load(x + <usize>i * 4)));
  for (; i < n; i++) store<f32>(out + <usize>i * 4, expS(load<f32>(x + <usize>i * 4)));
}

/** Rows [r0, r1) of softmax (log = 0) or log-softmax (log = 1) over [rows, n]. */
export function softmaxRowsF32(x: usize, out: usize, r0: i32, r1: i32, n: i32, log: i32): void {
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * <usize>n * 4;
    const or = out + <usize>r * <usize>n * 4;
    let mv = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= n; j += 4) mv = f32x4.pmax(mv, v128.load(xr + <usize>j * 4));
    let m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; j < n; j++) m = max<f32>(m, load<f32>(xr + <usize>j * 4));
    const ms = f32x4.splat(m);
    let sv = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= n; j += 4) {
      const e = expV(f32x4.sub(v128.load(xr + <usize>j * 4), ms));
      if (!log) v128.store(or + <usize>j * 4, e);
      sv = f32x4.add(sv, e);
    }
    let s = hsum(sv);
    for (; j < n; j++) {
      const e = expS(load<f32>(xr + <usize>j * 4) - m);
      if (!log) store<f32>(or + <usize>j * 4, e);
      s += e;
    }
    if (log) {
      const ls = <f32>Math.log(<f64>s);
      const lsv = f32x4.splat(ls);
      j = 0;
      for (; j + 4 <= n; j += 4) v128.store(or + <usize>j * 4, f32x4.sub(f32x4.sub(v128.load(xr + <usize>j * 4), ms), lsv));
      for (; j < n; j++) store<f32>(or + <usize>j * 4, (load<f32>(xr + <usize>j * 4) - m) - ls);
    } else {
      const svv = f32x4.splat(s);
      j = 0;
      for (; j + 4 <= n; j += 4) v128.store(or + <usize>j * 4, f32x4.div(v128.load(or + <usize>j * 4), svv));
      for (; j < n; j++) store<f32>(or + <usize>j * 4, load<f32>(or + <usize>j * 4) / s);
    }
  }
}

/**
 * Rows [r0, r1) of the backward: dx = y·(dy − Σ dy·y) (softmax) or dx = dy − exp(y)·Σ dy
 * (log-softmax). dx may alias dy.
 */
export function softmaxBackwardRowsF32(y: usize, dy: usize, dx: usize, r0: i32, r1: i32, n: i32, log: i32): void {
  for (let r = r0; r < r1; r++) {
    const off = <usize>r * <usize>n * 4;
    const yr = y + off, gr = dy + off, xr = dx + off;
    let sv = f32x4.splat(0);
    let j = 0;
    if (log) {
      for (; j + 4 <= n; j += 4) sv = f32x4.add(sv, v128.load(gr + <usize>j * 4));
    } else {
      for (; j + 4 <= n; j += 4) sv = f32x4.add(sv, f32x4.mul(v128.load(gr + <usize>j * 4), v128.load(yr + <usize>j * 4)));
    }
    let s = hsum(sv);
    for (; j < n; j++) s += log ? load<f32>(gr + <usize>j * 4) : load<f32>(gr + <usize>j * 4) * load<f32>(yr + <usize>j * 4);
    const ss = f32x4.splat(s);
    j = 0;
    if (log) {
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j * 4;
        v128.store(xr + o, f32x4.sub(v128.load(gr + o), f32x4.mul(expV(v128.load(yr + o)), ss)));
      }
      for (; j < n; j++) store<f32>(xr + <usize>j * 4, load<f32>(gr + <usize>j * 4) - expS(load<f32>(yr + <usize>j * 4)) * s);
    } else {
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j * 4;
        v128.store(xr + o, f32x4.mul(v128.load(yr + o), f32x4.sub(v128.load(gr + o), ss)));
      }
      for (; j < n; j++) store<f32>(xr + <usize>j * 4, load<f32>(yr + <usize>j * 4) * (load<f32>(gr + <usize>j * 4) - s));
    }
  }
}

/**
 * Share `share` of `shares` of one softmax pass described at `desc` (i32 words): direction
 * (0 forward, 1 backward), then a, b, c (forward: x, out, unused; backward: y, dy, dx), rows, n,
 * log. A share is a fixed block of whole rows, and a row's arithmetic does not depend on which
 * thread runs it, so results are the same bits on any thread count.
 */
export function softmaxTask(desc: usize, share: i32, shares: i32): void {
  const rows = load<i32>(desc, 16);
  const r0 = <i32>(<i64>rows * share / shares);
  const r1 = <i32>(<i64>rows * (share + 1) / shares);
  if (r0 >= r1) return;
  const a = <usize>load<i32>(desc, 4), b = <usize>load<i32>(desc, 8), c = <usize>load<i32>(desc, 12);
  const n = load<i32>(desc, 20), log = load<i32>(desc, 24);
  if (load<i32>(desc) == 0) softmaxRowsF32(a, b, r0, r1, n, log);
  else softmaxBackwardRowsF32(a, b, c, r0, r1, n, log);
}
