// Fused optimizer updates for float32 parameters with float64 state (the state lives in the
// Wasm memory between steps; w and g are staged). Every operation is the one the reference
// (src/backends/reference/optim.ts) does, in the same order, in f64 — two lanes at a time —, and
// the new weight is rounded to f32 once, as a store into a Float32Array rounds it: so results
// equal the reference bit for bit. No fused multiply-add anywhere, even in the relaxed build.
// Scalars derived from the hyperparameters (1 − β, lr/(1 − β₁ᵗ) …) come computed by the caller
// in JavaScript, exactly as the reference computes them.

/** Two f32 at p, widened to f64 (exact). */
@inline function ld2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Two f64 rounded to f32 and stored at p. */
@inline function st2(p: usize, v: v128): void {
  v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
}

@inline function ldw(p: usize): f64 {
  return <f64>load<f32>(p);
}

@inline function stw(p: usize, v: f64): void {
  store<f32>(p, <f32>v);
}

/**
 * SGD. Plain (no buffer, wd = 0): w ← w − step·g with step = ±lr. Otherwise g' = sign·g + wd·w;
 * with a buffer b ← first ? g' : momentum·b + damp·g' (damp = 1 − dampening) and
 * g' ← nesterov ? g' + momentum·b : b; then w ← w − lr·g'.
 */
export function sgdF32(w: usize, g: usize, buf: usize, n: i32, lr: f64, step: f64, sign: f64, wd: f64,
  momentum: f64, damp: f64, nesterov: i32, first: i32): void {
  let i = 0;
  if (buf == 0 && wd == 0) {
    const s = f64x2.splat(step);
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i * 4;
      st2(w + o, f64x2.sub(ld2(w + o), f64x2.mul(s, ld2(g + o))));
    }
    for (; i < n; i++) {
      const o = <usize>i * 4;
      stw(w + o, ldw(w + o) - step * ldw(g + o));
    }
    return;
  }
  const vs = f64x2.splat(sign), vwd = f64x2.splat(wd), vlr = f64x2.splat(lr);
  const vmu = f64x2.splat(momentum), vdamp = f64x2.splat(damp);
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * 4;
    const wv = ld2(w + o);
    let gv = f64x2.add(f64x2.mul(vs, ld2(g + o)), f64x2.mul(vwd, wv));
    if (buf != 0) {
      const bp = buf + <usize>i * 8;
      const b = first ? gv : f64x2.add(f64x2.mul(vmu, v128.load(bp)), f64x2.mul(vdamp, gv));
      v128.store(bp, b);
      gv = nesterov ? f64x2.add(gv, f64x2.mul(vmu, b)) : b;
    }
    st2(w + o, f64x2.sub(wv, f64x2.mul(vlr, gv)));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const wv = ldw(w + o);
    let gv = sign * ldw(g + o) + wd * wv;
    if (buf != 0) {
      const bp = buf + <usize>i * 8;
      const b = first ? gv : momentum * load<f64>(bp) + damp * gv;
      store<f64>(bp, b);
      gv = nesterov ? gv + momentum * b : b;
    }
    stw(w + o, wv - lr * gv);
  }
}

/**
 * RMSprop: g' = g + wd·w; s ← α·s + c·g'·g' (c = 1 − α); centered (ga ≠ 0): a ← α·a + c·g',
 * den = √(s − a·a) + eps, else den = √s + eps; with a buffer (mb ≠ 0) b ← μ·b + g'/den and
 * w ← w − lr·b, else w ← w − (lr·g')/den.
 */
export function rmspropF32(w: usize, g: usize, sq: usize, ga: usize, mb: usize, n: i32,
  lr: f64, alpha: f64, c: f64, eps: f64, wd: f64, momentum: f64): void {
  const vwd = f64x2.splat(wd), vlr = f64x2.splat(lr), va = f64x2.splat(alpha), vc = f64x2.splat(c);
  const veps = f64x2.splat(eps), vmu = f64x2.splat(momentum);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * 4;
    const d = <usize>i * 8;
    const wv = ld2(w + o);
    const gv = f64x2.add(ld2(g + o), f64x2.mul(vwd, wv));
    const s = f64x2.add(f64x2.mul(va, v128.load(sq + d)), f64x2.mul(f64x2.mul(vc, gv), gv));
    v128.store(sq + d, s);
    let avg: v128;
    if (ga != 0) {
      const a = f64x2.add(f64x2.mul(va, v128.load(ga + d)), f64x2.mul(vc, gv));
      v128.store(ga + d, a);
      avg = f64x2.add(f64x2.sqrt(f64x2.sub(s, f64x2.mul(a, a))), veps);
    } else avg = f64x2.add(f64x2.sqrt(s), veps);
    if (mb != 0) {
      const b = f64x2.add(f64x2.mul(vmu, v128.load(mb + d)), f64x2.div(gv, avg));
      v128.store(mb + d, b);
      st2(w + o, f64x2.sub(wv, f64x2.mul(vlr, b)));
    } else st2(w + o, f64x2.sub(wv, f64x2.div(f64x2.mul(vlr, gv), avg)));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const d = <usize>i * 8;
    const wv = ldw(w + o);
    const gv = ldw(g + o) + wd * wv;
    const s = alpha * load<f64>(sq + d) + c * gv * gv;
    store<f64>(sq + d, s);
    let avg: f64;
    if (ga != 0) {
      const a = alpha * load<f64>(ga + d) + c * gv;
      store<f64>(ga + d, a);
      avg = Math.sqrt(s - a * a) + eps;
    } else avg = Math.sqrt(s) + eps;
    if (mb != 0) {
      const b = momentum * load<f64>(mb + d) + gv / avg;
      store<f64>(mb + d, b);
      stw(w + o, wv - lr * b);
    } else stw(w + o, wv - (lr * gv) / avg);
  }
}

/**
 * Adam/AdamW. Plain (vmax = 0, wd = 0): m ← b1·m + c1·g, v ← b2·v + c2·g·g,
 * w ← w − (stepSize·m)/(√v/bc2 + eps). Otherwise first w' = w·decay (decoupled) or
 * g' = g + wd·w, and with amsgrad (vmax ≠ 0) the denominator uses vmax ← max(vmax, v).
 */
export function adamF32(w: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32,
  b1: f64, b2: f64, c1: f64, c2: f64, stepSize: f64, bc2: f64, eps: f64, wd: f64, decoupled: i32, decay: f64): void {
  const vb1 = f64x2.splat(b1), vb2 = f64x2.splat(b2), vc1 = f64x2.splat(c1), vc2 = f64x2.splat(c2);
  const vstep = f64x2.splat(stepSize), vbc2 = f64x2.splat(bc2), veps = f64x2.splat(eps);
  const vwd = f64x2.splat(wd), vdecay = f64x2.splat(decay);
  const plain = vmax == 0 && wd == 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * 4;
    const d = <usize>i * 8;
    let wv = ld2(w + o);
    let gv = ld2(g + o);
    if (!plain) {
      if (decoupled) wv = f64x2.mul(wv, vdecay);
      else gv = f64x2.add(gv, f64x2.mul(vwd, wv));
    }
    const mv = f64x2.add(f64x2.mul(vb1, v128.load(m + d)), f64x2.mul(vc1, gv));
    let vv = f64x2.add(f64x2.mul(vb2, v128.load(v + d)), f64x2.mul(f64x2.mul(vc2, gv), gv));
    v128.store(m + d, mv);
    v128.store(v + d, vv);
    if (vmax != 0) {
      vv = f64x2.max(v128.load(vmax + d), vv);
      v128.store(vmax + d, vv);
    }
    st2(w + o, f64x2.sub(wv, f64x2.div(f64x2.mul(vstep, mv), f64x2.add(f64x2.div(f64x2.sqrt(vv), vbc2), veps))));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const d = <usize>i * 8;
    let wv = ldw(w + o);
    let gv = ldw(g + o);
    if (!plain) {
      if (decoupled) wv = wv * decay;
      else gv = gv + wd * wv;
    }
    const mv = b1 * load<f64>(m + d) + c1 * gv;
    let vv = b2 * load<f64>(v + d) + c2 * gv * gv;
    store<f64>(m + d, mv);
    store<f64>(v + d, vv);
    if (vmax != 0) {
      vv = Math.max(load<f64>(vmax + d), vv);
      store<f64>(vmax + d, vv);
    }
    stw(w + o, wv - (stepSize * mv) / (Math.sqrt(vv) / bc2 + eps));
  }
}

/**
 * Share `tid` (of `threads`; the worker pool hands shares to any thread) of one update
 * described at `desc`: i32 words rule (0 SGD, 1 RMSprop, 2 Adam), n, w, g, state pointers s0, s1, s2 (0 when absent), flags f0, f1; f64
 * scalars from byte 40. Shares are even-length stretches of the elements (whole f64x2 pairs), and
 * every element's arithmetic is the same whichever thread runs it, so results never depend on
 * the thread count.
 */
export function optimTask(desc: usize, tid: i32, threads: i32): void {
  const rule = load<i32>(desc);
  const n = load<i32>(desc, 4);
  const chunk = ((n + threads - 1) / threads + 1) & ~1;
  const start = tid * chunk;
  if (start >= n) return;
  const len = min(chunk, n - start);
  const w = <usize>load<i32>(desc, 8) + <usize>start * 4;
  const g = <usize>load<i32>(desc, 12) + <usize>start * 4;
  const s0 = <usize>load<i32>(desc, 16);
  const s1 = <usize>load<i32>(desc, 20);
  const s2 = <usize>load<i32>(desc, 24);
  const at0 = s0 ? s0 + <usize>start * 8 : 0;
  const at1 = s1 ? s1 + <usize>start * 8 : 0;
  const at2 = s2 ? s2 + <usize>start * 8 : 0;
  const f0 = load<i32>(desc, 28);
  const f1 = load<i32>(desc, 32);
  const p = desc + 40;
  if (rule == 0) {
    sgdF32(w, g, at0, len, load<f64>(p), load<f64>(p, 8), load<f64>(p, 16), load<f64>(p, 24), load<f64>(p, 32), load<f64>(p, 40), f0, f1);
  } else if (rule == 1) {
    rmspropF32(w, g, at0, at1, at2, len, load<f64>(p), load<f64>(p, 8), load<f64>(p, 16), load<f64>(p, 24), load<f64>(p, 32), load<f64>(p, 40));
  } else {
    adamF32(w, g, at0, at1, at2, len, load<f64>(p), load<f64>(p, 8), load<f64>(p, 16), load<f64>(p, 24), load<f64>(p, 32),
      load<f64>(p, 40), load<f64>(p, 48), load<f64>(p, 56), f0, load<f64>(p, 64));
  }
}
