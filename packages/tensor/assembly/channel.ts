// Per-channel kernels over [n, c, s] float32 data for batch normalisation (the reference is
// backends/reference/channel.ts): statistics and coefficients are float64 (pointers to f64
// arrays), and the arithmetic runs in float64 two lanes at a time (f64x2). channelAffine does
// the reference's operations in its order, so it equals it bit for bit; the sums run in two
// lanes (even and odd positions) added at the end, a fixed order of their own.
//
// channelTask runs them as shares of the worker pool, each a contiguous range of channels:
// every channel is computed the same way whichever thread takes it, so results do not depend
// on the thread count.

/** Elements i, i + 1 of row r as f64x2, and i + 2, i + 3. */
@inline function low(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
@inline function high(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** Sum of the two lanes. */
@inline function lanes(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/**
 * mean[ch] and biased variance[ch] over batch and positions, about the channel's first value
 * (shifted data, as the reference), for m = n·s > 0.
 */
function channelMomentsF32(x: usize, n: i32, c: i32, s: i32, mean: usize, variance: usize, c0: i32, c1: i32): void {
  const m = <f64>n * <f64>s;
  for (let ch = c0; ch < c1; ch++) {
    const k = <f64>load<f32>(x + <usize>(ch * s) * 4);
    const kv = f64x2.splat(k);
    let sum = f64x2.splat(0);
    let sq = f64x2.splat(0);
    let tail: f64 = 0;
    let tailSq: f64 = 0;
    for (let b = 0; b < n; b++) {
      const row = x + <usize>((b * c + ch) * s) * 4;
      let i = 0;
      for (; i + 4 <= s; i += 4) {
        const v = v128.load(row + <usize>i * 4);
        const d0 = f64x2.sub(low(v), kv);
        const d1 = f64x2.sub(high(v), kv);
        sum = f64x2.add(f64x2.add(sum, d0), d1);
        sq = f64x2.add(f64x2.add(sq, f64x2.mul(d0, d0)), f64x2.mul(d1, d1));
      }
      for (; i < s; i++) {
        const d = <f64>load<f32>(row + <usize>i * 4) - k;
        tail += d;
        tailSq += d * d;
      }
    }
    const mu = (lanes(sum) + tail) / m;
    store<f64>(mean + <usize>ch * 8, k + mu);
    store<f64>(variance + <usize>ch * 8, max(0, (lanes(sq) + tailSq) / m - mu * mu));
  }
}

/** out = x·a[ch] + b[ch] (+ z·e[ch] when z ≠ 0), in float64, rounded once. */
function channelAffineF32(x: usize, n: i32, c: i32, s: i32, a: usize, b: usize, out: usize, z: usize, e: usize, c0: i32, c1: i32): void {
  for (let bt = 0; bt < n; bt++) {
    for (let ch = c0; ch < c1; ch++) {
      const o = <usize>((bt * c + ch) * s) * 4;
      const ac = load<f64>(a + <usize>ch * 8);
      const bc = load<f64>(b + <usize>ch * 8);
      const av = f64x2.splat(ac);
      const bv = f64x2.splat(bc);
      let i = 0;
      if (z) {
        const ec = load<f64>(e + <usize>ch * 8);
        const ev = f64x2.splat(ec);
        for (; i + 4 <= s; i += 4) {
          const p = o + <usize>i * 4;
          const v = v128.load(x + p);
          const w = v128.load(z + p);
          const r0 = f64x2.add(f64x2.add(f64x2.mul(low(v), av), bv), f64x2.mul(low(w), ev));
          const r1 = f64x2.add(f64x2.add(f64x2.mul(high(v), av), bv), f64x2.mul(high(w), ev));
          v128.store(out + p, join(r0, r1));
        }
        for (; i < s; i++) {
          const p = o + <usize>i * 4;
          store<f32>(out + p, <f32>(<f64>load<f32>(x + p) * ac + bc + <f64>load<f32>(z + p) * ec));
        }
      } else {
        for (; i + 4 <= s; i += 4) {
          const p = o + <usize>i * 4;
          const v = v128.load(x + p);
          v128.store(out + p, join(f64x2.add(f64x2.mul(low(v), av), bv), f64x2.add(f64x2.mul(high(v), av), bv)));
        }
        for (; i < s; i++) {
          const p = o + <usize>i * 4;
          store<f32>(out + p, <f32>(<f64>load<f32>(x + p) * ac + bc));
        }
      }
    }
  }
}

/** Two f64x2 rounded to float32 and packed into one f32x4. */
@inline function join(r0: v128, r1: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(r0), f32x4.demote_f64x2_zero(r1), 0, 1, 4, 5);
}

/** sums[ch] = Σ dy and dots[ch] = Σ dy·(x − center[ch]) over batch and positions. */
function channelGradSumsF32(dy: usize, x: usize, n: i32, c: i32, s: i32, center: usize, sums: usize, dots: usize, c0: i32, c1: i32): void {
  for (let ch = c0; ch < c1; ch++) {
    const k = load<f64>(center + <usize>ch * 8);
    const kv = f64x2.splat(k);
    let sum = f64x2.splat(0);
    let dot = f64x2.splat(0);
    let tail: f64 = 0;
    let tailDot: f64 = 0;
    for (let b = 0; b < n; b++) {
      const o = <usize>((b * c + ch) * s) * 4;
      let i = 0;
      for (; i + 4 <= s; i += 4) {
        const p = o + <usize>i * 4;
        const g = v128.load(dy + p);
        const v = v128.load(x + p);
        const g0 = low(g);
        const g1 = high(g);
        sum = f64x2.add(f64x2.add(sum, g0), g1);
        dot = f64x2.add(f64x2.add(dot, f64x2.mul(g0, f64x2.sub(low(v), kv))), f64x2.mul(g1, f64x2.sub(high(v), kv)));
      }
      for (; i < s; i++) {
        const p = o + <usize>i * 4;
        const g = <f64>load<f32>(dy + p);
        tail += g;
        tailDot += g * (<f64>load<f32>(x + p) - k);
      }
    }
    store<f64>(sums + <usize>ch * 8, lanes(sum) + tail);
    store<f64>(dots + <usize>ch * 8, lanes(dot) + tailDot);
  }
}

/**
 * Share `share` of `shares` of the channel task at `desc` (i32 words): 0 kernel (0 moments,
 * 1 affine map, 2 gradient sums), 1 n, 2 c, 3 s, then the kernel's pointers in its argument
 * order — moments: 4 x, 5 mean, 6 variance; affine: 4 x, 5 a, 6 b, 7 out, 8 z (0: none), 9 e;
 * sums: 4 dy, 5 x, 6 center, 7 sums, 8 dots. The share is channels [c·share/shares,
 * c·(share + 1)/shares).
 */
export function channelTask(desc: usize, share: i32, shares: i32): void {
  const kind = load<i32>(desc);
  const n = load<i32>(desc, 4);
  const c = load<i32>(desc, 8);
  const s = load<i32>(desc, 12);
  const c0 = <i32>((<i64>c * share) / shares);
  const c1 = <i32>((<i64>c * (share + 1)) / shares);
  const d = desc + 16;
  if (kind == 0) channelMomentsF32(ptr(d, 0), n, c, s, ptr(d, 1), ptr(d, 2), c0, c1);
  else if (kind == 1) channelAffineF32(ptr(d, 0), n, c, s, ptr(d, 1), ptr(d, 2), ptr(d, 3), ptr(d, 4), ptr(d, 5), c0, c1);
  else channelGradSumsF32(ptr(d, 0), ptr(d, 1), n, c, s, ptr(d, 2), ptr(d, 3), ptr(d, 4), c0, c1);
}

/** Pointer word k from d. */
@inline function ptr(d: usize, k: i32): usize {
  return <usize>load<i32>(d + <usize>k * 4);
}
