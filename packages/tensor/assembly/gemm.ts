// Single-precision GEMM for Kiln's wasm backend, compiled by AssemblyScript at build time
// (scripts/build-wasm.mjs) into a SIMD build and a relaxed-SIMD build (FMA via relaxed_madd).
//
// The structure is the classic one of Goto's GEMM: C is computed in KC-deep slices; a KC×NC
// block of B and an MC×KC block of A are packed into contiguous micro-panels (zero-padded to
// the tile size), and a 4×8 register tile — 8 f32x4 accumulators — walks the panels. Packing
// reads the operands through element strides, so transposed operands cost nothing extra.
//
// The module owns no data and keeps no state: JavaScript lays out the operands, a task
// descriptor and per-thread scratch in the (possibly shared) imported memory, and the threads
// run the shares of `gemmTask` (the worker pool hands them out). Each C element is always
// summed in the same order, whichever share computes it, so results do not depend on the split
// or on how many threads ran.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 1024;

/** Bytes of scratch one thread needs: packed A block, packed B block, one C tile. */
export function scratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** a·b + c, fused where the build has relaxed SIMD. */
@inline export function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Packs rows [0, mc) × depth [0, kc) of A (element (i, p) at a + 4·(i·rs + p·cs)) into MR-row panels. */
function packA(mc: i32, kc: i32, a: usize, rs: i32, cs: i32, dst: usize): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const panel = dst + <usize>(i0 * kc) * 4;
    if (rows == MR && cs == 1) {
      const r0 = a + <usize>(i0 * rs) * 4;
      const step = <usize>rs * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) transpose4(r0 + <usize>p * 4, step, panel + <usize>p * 16, 16);
      for (; p < kc; p++) {
        const o = <usize>p * 4;
        const d = panel + <usize>p * 16;
        store<f32>(d, load<f32>(r0 + o));
        store<f32>(d, load<f32>(r0 + step + o), 4);
        store<f32>(d, load<f32>(r0 + step * 2 + o), 8);
        store<f32>(d, load<f32>(r0 + step * 3 + o), 12);
      }
    } else if (rows == MR && rs == 1) {
      // Transposed A: the 4 rows of one depth step are contiguous.
      for (let p = 0; p < kc; p++) {
        v128.store(panel + <usize>p * 16, v128.load(a + <usize>(i0 + p * cs) * 4));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < rows ? load<f32>(a + <usize>((i0 + r) * rs + p * cs) * 4) : 0;
          store<f32>(panel + <usize>(p * MR + r) * 4, v);
        }
      }
    }
  }
}

/**
 * Four rows of four floats (row r at src + r·step) written transposed: column i goes to
 * dst + i·dstep (consecutive depth steps of a packed panel).
 */
@inline export function transpose4(src: usize, step: usize, dst: usize, dstep: usize): void {
  const v0 = v128.load(src);
  const v1 = v128.load(src + step);
  const v2 = v128.load(src + step * 2);
  const v3 = v128.load(src + step * 3);
  const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + dstep, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + dstep * 2, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + dstep * 3, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * Packs depth [0, kc) × columns [0, nc) of B (element (p, j) at b + 4·(p·rs + j·cs)) into NR-column
 * panels (panel j0/NR at dst + 4·j0·kc, zero-padded to NR columns). Also used by recurrent.ts to
 * pack W_hh once per sequence.
 */
export function packB(kc: i32, nc: i32, b: usize, rs: i32, cs: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    const panel = dst + <usize>(j0 * kc) * 4;
    if (cols == NR && cs == 1) {
      for (let p = 0; p < kc; p++) {
        const s = b + <usize>(p * rs + j0) * 4;
        const d = panel + <usize>p * 32;
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else if (cols == NR && rs == 1) {
      // Transposed B (a weight matrix read as Wᵀ): four depth steps of the eight source columns
      // at a time, loaded contiguously and transposed in registers, 4×4 twice.
      const s0 = b + <usize>(j0 * cs) * 4;
      const step = <usize>cs * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>p * 4;
        const d = panel + <usize>(p * NR) * 4;
        transpose4(s0 + o, step, d, NR * 4);
        transpose4(s0 + o + step * 4, step, d + 16, NR * 4);
      }
      for (; p < kc; p++) {
        for (let c = 0; c < NR; c++) store<f32>(panel + <usize>(p * NR + c) * 4, load<f32>(s0 + <usize>c * step + <usize>p * 4));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < NR; c++) {
          const v: f32 = c < cols ? load<f32>(b + <usize>(p * rs + (j0 + c) * cs) * 4) : 0;
          store<f32>(panel + <usize>(p * NR + c) * 4, v);
        }
      }
    }
  }
}

/** C tile (mr ≤ 4 rows, nr ≤ 8 columns at c, row stride ldc) (+)= packed A panel · packed B panel. */
function tile(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, mr: i32, nr: i32, acc: bool, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = fma(a, b0, c00);
    c01 = fma(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = fma(a, b0, c10);
    c11 = fma(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = fma(a, b0, c20);
    c21 = fma(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = fma(a, b0, c30);
    c31 = fma(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  const rowBytes = <usize>ldc * 4;
  if (mr == MR && nr == NR) {
    let r = c;
    if (acc) {
      v128.store(r, f32x4.add(v128.load(r), c00)); v128.store(r, f32x4.add(v128.load(r, 16), c01), 16); r += rowBytes;
      v128.store(r, f32x4.add(v128.load(r), c10)); v128.store(r, f32x4.add(v128.load(r, 16), c11), 16); r += rowBytes;
      v128.store(r, f32x4.add(v128.load(r), c20)); v128.store(r, f32x4.add(v128.load(r, 16), c21), 16); r += rowBytes;
      v128.store(r, f32x4.add(v128.load(r), c30)); v128.store(r, f32x4.add(v128.load(r, 16), c31), 16);
    } else {
      v128.store(r, c00); v128.store(r, c01, 16); r += rowBytes;
      v128.store(r, c10); v128.store(r, c11, 16); r += rowBytes;
      v128.store(r, c20); v128.store(r, c21, 16); r += rowBytes;
      v128.store(r, c30); v128.store(r, c31, 16);
    }
    return;
  }
  v128.store(tmp, c00); v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  for (let i = 0; i < mr; i++) {
    const row = c + <usize>i * rowBytes;
    for (let j = 0; j < nr; j++) {
      const v = load<f32>(tmp + <usize>(i * NR + j) * 4);
      const d = row + <usize>j * 4;
      store<f32>(d, acc ? load<f32>(d) + v : v);
    }
  }
}

/**
 * C (m×n at c, row stride ldc) = A·B (+ C when `accumulate`), A element (i, p) at
 * a + 4·(i·rsA + p·csA), B element (p, j) at b + 4·(p·rsB + j·csB). Needs k ≥ 1.
 */
export function sgemm(
  m: i32, n: i32, k: i32,
  a: usize, rsA: i32, csA: i32,
  b: usize, rsB: i32, csB: i32,
  c: usize, ldc: i32, accumulate: bool, scratch: usize,
): void {
  const pa = scratch;
  const pb = pa + <usize>(MC * KC) * 4;
  const tmp = pb + <usize>(KC * NC) * 4;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const acc = accumulate || pc > 0;
      packB(kc, nc, b + <usize>(pc * rsB + jc * csB) * 4, rsB, csB, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(mc, kc, a + <usize>(ic * rsA + pc * csA) * 4, rsA, csA, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bPanel = pb + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            tile(kc, pa + <usize>(ir * kc) * 4, bPanel, c + <usize>((ic + ir) * ldc + jc + jr) * 4, ldc, mr, nr, acc, tmp);
          }
        }
      }
    }
  }
}

/** Copies the `cols` floats at `src` into each of `rows` rows at dst (row stride ldc floats). */
function fillRows(dst: usize, ldc: i32, rows: i32, src: usize, cols: i32): void {
  const bytes = <usize>cols * 4;
  for (let i = 0; i < rows; i++) memory.copy(dst + <usize>(i * ldc) * 4, src, bytes);
}

/**
 * The task descriptor of a (batched) GEMM, as JavaScript writes it (i32 words; pointers in
 * bytes, strides in elements; see gemmTask).
 */
@unmanaged export class GemmDesc {
  batch: i32; m: i32; n: i32; k: i32;
  a: i32; rsA: i32; csA: i32; aBatch: i32;
  b: i32; rsB: i32; csB: i32; bBatch: i32;
  c: i32; ldc: i32; cBatch: i32; accumulate: i32;
  scratch: i32; scratchStride: i32; bias: i32;
}

/**
 * Runs share `share` (of `shares`) of the batched GEMM described at `desc` (i32 words): batch,
 * m, n, k, a, rsA, csA, aBatch, b, rsB, csB, bBatch, c, ldc, cBatch, accumulate, scratch,
 * scratchStride, bias (pointers in bytes, 0 for no bias; strides in elements), with thread
 * `thread`'s packing scratch. With a bias (n values), each share first writes it into every row
 * of its part of C and then accumulates the product onto it.
 * Batches of at least `shares` items are split by item; otherwise each item is split along its
 * larger output dimension in whole tiles. Every C element is summed in the same order whichever
 * share computes it, so results do not depend on the split.
 */
export function gemmTask(desc: usize, share: i32, shares: i32, thread: i32): void {
  const d = changetype<GemmDesc>(desc);
  const batch = d.batch, m = d.m, n = d.n, k = d.k;
  const a = <usize>d.a, rsA = d.rsA, csA = d.csA, aBatch = d.aBatch;
  const b = <usize>d.b, rsB = d.rsB, csB = d.csB, bBatch = d.bBatch;
  const c = <usize>d.c, ldc = d.ldc, cBatch = d.cBatch;
  const accumulate = d.accumulate != 0;
  const scratch = <usize>d.scratch + <usize>thread * <usize>d.scratchStride;
  const bias = <usize>d.bias;
  if (batch >= shares) {
    for (let t = share; t < batch; t += shares) {
      const ct = c + <usize>(t * cBatch) * 4;
      if (bias) fillRows(ct, ldc, m, bias, n);
      sgemm(m, n, k, a + <usize>(t * aBatch) * 4, rsA, csA, b + <usize>(t * bBatch) * 4, rsB, csB,
        ct, ldc, accumulate || bias != 0, scratch);
    }
    return;
  }
  for (let t = 0; t < batch; t++) {
    const at = a + <usize>(t * aBatch) * 4;
    const bt = b + <usize>(t * bBatch) * 4;
    const ct = c + <usize>(t * cBatch) * 4;
    if (n >= m) {
      const chunk = ((n + shares * NR - 1) / (shares * NR)) * NR;
      const j0 = share * chunk;
      const j1 = min(n, j0 + chunk);
      if (j0 >= j1) continue;
      if (bias) fillRows(ct + <usize>j0 * 4, ldc, m, bias + <usize>j0 * 4, j1 - j0);
      sgemm(m, j1 - j0, k, at, rsA, csA, bt + <usize>(j0 * csB) * 4, rsB, csB, ct + <usize>j0 * 4, ldc, accumulate || bias != 0, scratch);
    } else {
      const chunk = ((m + shares * MR - 1) / (shares * MR)) * MR;
      const i0 = share * chunk;
      const i1 = min(m, i0 + chunk);
      if (i0 >= i1) continue;
      if (bias) fillRows(ct + <usize>(i0 * ldc) * 4, ldc, i1 - i0, bias, n);
      sgemm(i1 - i0, n, k, at + <usize>(i0 * rsA) * 4, rsA, csA, bt, rsB, csB, ct + <usize>(i0 * ldc) * 4, ldc, accumulate || bias != 0, scratch);
    }
  }
}
