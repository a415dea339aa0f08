// Matrix-vector products: the GEMMs whose A has one row (batch-1 inference through a Linear, an
// RNN cell decoding one sequence). Goto's packing (gemm.ts) costs as much as such a product —
// each weight is used once — and its 4-row tile would spend three quarters of its FMAs on zero
// rows. Here B is read where it lies, once, in one of two forms:
// - dot form, B's columns contiguous (element (p, j) at b + 4·(j·csB + p): a weight W [n, k]
//   read as Wᵀ, as Linear does): each output is a dot product of a with one row of W, four
//   outputs at a time, four lanes over p, summed across lanes at the end;
// - axpy form, B's rows contiguous (element (p, j) at b + 4·(p·rsB + j)): sixteen outputs at a
//   time accumulate a[p]·B[p, j..j+16) over p in registers.
// Each output is computed whole by one share, in an order fixed by k alone, so results do not
// depend on the split or the thread count. C = init + a·B, init being 0, C itself (accumulate)
// or the bias row, so a bias gives the bits of C preloaded with it and accumulated onto.

import { fma, GemmDesc } from './gemm';

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** The value C[j] starts from: 0, C[j] (accumulate) or bias[j]. */
@inline function initOf(c: usize, bias: usize, acc: bool, j: i32): f32 {
  if (bias) return load<f32>(bias + <usize>j * 4);
  return acc ? load<f32>(c + <usize>j * 4) : 0;
}

/** Dot form, outputs [j0, j1): c[j] = init + Σ_p a[p]·w_j[p], w_j at b + 4·j·csB. */
function gemvDot(k: i32, a: usize, b: usize, csB: i32, c: usize, j0: i32, j1: i32, bias: usize, acc: bool): void {
  const row = <usize>csB * 4;
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const w0 = b + <usize>j * row;
    const w1 = w0 + row, w2 = w1 + row, w3 = w2 + row;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const o = <usize>p * 4;
      const av = v128.load(a + o);
      s0 = fma(av, v128.load(w0 + o), s0);
      s1 = fma(av, v128.load(w1 + o), s1);
      s2 = fma(av, v128.load(w2 + o), s2);
      s3 = fma(av, v128.load(w3 + o), s3);
    }
    let t0 = hsum(s0), t1 = hsum(s1), t2 = hsum(s2), t3 = hsum(s3);
    for (; p < k; p++) {
      const o = <usize>p * 4;
      const ap = load<f32>(a + o);
      t0 += ap * load<f32>(w0 + o);
      t1 += ap * load<f32>(w1 + o);
      t2 += ap * load<f32>(w2 + o);
      t3 += ap * load<f32>(w3 + o);
    }
    store<f32>(c + <usize>j * 4, initOf(c, bias, acc, j) + t0);
    store<f32>(c + <usize>(j + 1) * 4, initOf(c, bias, acc, j + 1) + t1);
    store<f32>(c + <usize>(j + 2) * 4, initOf(c, bias, acc, j + 2) + t2);
    store<f32>(c + <usize>(j + 3) * 4, initOf(c, bias, acc, j + 3) + t3);
  }
  for (; j < j1; j++) {
    const w = b + <usize>j * row;
    let s = f32x4.splat(0);
    let p = 0;
    for (; p + 4 <= k; p += 4) s = fma(v128.load(a + <usize>p * 4), v128.load(w + <usize>p * 4), s);
    let t = hsum(s);
    for (; p < k; p++) t += load<f32>(a + <usize>p * 4) * load<f32>(w + <usize>p * 4);
    store<f32>(c + <usize>j * 4, initOf(c, bias, acc, j) + t);
  }
}

/** Axpy form, outputs [j0, j1): c[j] = init + Σ_p a[p]·B[p, j], row p of B at b + 4·p·rsB. */
function gemvAxpy(k: i32, a: usize, b: usize, rsB: i32, c: usize, j0: i32, j1: i32, bias: usize, acc: bool): void {
  const row = <usize>rsB * 4;
  let j = j0;
  for (; j + 16 <= j1; j += 16) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let bp = b + <usize>j * 4;
    for (let p = 0; p < k; p++, bp += row) {
      const av = v128.load32_splat(a + <usize>p * 4);
      s0 = fma(av, v128.load(bp), s0);
      s1 = fma(av, v128.load(bp, 16), s1);
      s2 = fma(av, v128.load(bp, 32), s2);
      s3 = fma(av, v128.load(bp, 48), s3);
    }
    const cj = c + <usize>j * 4;
    const init = bias ? bias + <usize>j * 4 : cj;
    const load0 = bias || acc;
    v128.store(cj, load0 ? f32x4.add(v128.load(init), s0) : s0);
    v128.store(cj, load0 ? f32x4.add(v128.load(init, 16), s1) : s1, 16);
    v128.store(cj, load0 ? f32x4.add(v128.load(init, 32), s2) : s2, 32);
    v128.store(cj, load0 ? f32x4.add(v128.load(init, 48), s3) : s3, 48);
  }
  for (; j < j1; j++) {
    let t: f32 = 0;
    let bp = b + <usize>j * 4;
    for (let p = 0; p < k; p++, bp += row) t += load<f32>(a + <usize>p * 4) * load<f32>(bp);
    store<f32>(c + <usize>j * 4, initOf(c, bias, acc, j) + t);
  }
}

/**
 * Share `share` of `shares` of the batched one-row GEMM described at `desc` (gemmTask's layout:
 * batch, m = 1, n, k, a, rsA, csA = 1, aBatch, b, rsB, csB, bBatch, c, ldc, cBatch, accumulate,
 * scratch, scratchStride, bias), B with rsB = 1 (dot form) or csB = 1 (axpy form). Batches of at
 * least `shares` items split by item; otherwise each item splits its outputs in blocks of 16.
 */
export function gemvTask(desc: usize, share: i32, shares: i32): void {
  const d = changetype<GemmDesc>(desc);
  const batch = d.batch, n = d.n, k = d.k;
  const a = <usize>d.a, aBatch = d.aBatch;
  const b = <usize>d.b, rsB = d.rsB, csB = d.csB, bBatch = d.bBatch;
  const c = <usize>d.c, cBatch = d.cBatch;
  const acc = d.accumulate != 0;
  const bias = <usize>d.bias;
  const dot = rsB == 1 && csB != 1;
  let t0 = 0, t1 = batch, j0 = 0, j1 = n;
  if (batch >= shares) {
    t0 = <i32>(<i64>batch * share / shares);
    t1 = <i32>(<i64>batch * (share + 1) / shares);
  } else {
    const chunk = ((n + shares * 16 - 1) / (shares * 16)) * 16;
    j0 = share * chunk;
    j1 = min(n, j0 + chunk);
    if (j0 >= j1) return;
  }
  for (let t = t0; t < t1; t++) {
    const at = a + <usize>t * <usize>aBatch * 4;
    const bt = b + <usize>t * <usize>bBatch * 4;
    const ct = c + <usize>t * <usize>cBatch * 4;
    if (dot) gemvDot(k, at, bt, csB, ct, j0, j1, bias, acc);
    else gemvAxpy(k, at, bt, rsB, ct, j0, j1, bias, acc);
  }
}
