// Per-channel kernels over [n, c, s] float32 data for batch normalisation (the reference is
// backends/reference/channel.ts): statistics and coefficients are float64 (pointers to f64
// arrays), and the arithmetic runs in float64 two lanes at a time (f64x2). channelAffine does
// the reference's operations in its order, so it equals it bit for bit; the sums run in two
// lanes (even and odd positions) added at the end, a fixed order of their own.

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
export function channelMomentsF32(x: usize, n: i32, c: i32, s: i32, mean: usize, variance: usize): void {
  const m = <f64>n * <f64>s;
  for (let ch = 0; ch < c; ch++) {
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
export function channelAffineF32(x: usize, n: i32, c: i32, s: i32, a: usize, b: usize, out: usize, z: usize, e: usize): void {
  for (let bt = 0; bt < n; bt++) {
    for (let ch = 0; ch < c; ch++) {
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
export function channelGradSumsF32(dy: usize, x: usize, n: i32, c: i32, s: i32, center: usize, sums: usize, dots: usize): void {
  for (let ch = 0; ch < c; ch++) {
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
