// The weight gradient of Winograd F(2×2, 3×3) (winograd.ts, phases 6–8): the adjoint of the
// forward transform. y = Aᵀ (U ⊙ V) A with U = G g Gᵀ gives dU[ξ] = Σ over tiles of
// (A dy Aᵀ)[ξ] · V[ξ] — 16 GEMMs over the tiles — and dg = Gᵀ dU G.
import { lane, shareLo, spread } from './winograd';

/**
 * Ŷ[ξ, o, p] = (A e Aᵀ)[ξ] for each 2×2 block e of dy (zero past the output's edge), rows of A:
 * [1 0], [1 1], [1 −1], [0 −1]. Threads take contiguous shares of the (item, channel) planes;
 * four tiles per vector, the last T % 4 tiles of a plane one by one.
 */
export function transformGradients(dy: usize, Y: usize, N: i32, Co: i32, OH: i32, OW: i32, TH: i32, TW: i32, PS: i32, tid: i32, threads: i32): void {
  const r0 = shareLo(N * Co, tid, threads);
  const r1 = shareLo(N * Co, tid + 1, threads);
  const step = <usize>spread(Co * PS) * 4;
  const T = TH * TW;
  for (let r = r0; r < r1; r++) {
    const n = r / Co;
    const o = r - n * Co;
    const src = dy + <usize>(r * OH * OW) * 4;
    const dst = Y + <usize>(o * PS + n * T) * 4;
    let th = 0;
    let tw = 0;
    let t = 0;
    for (; t < T; t += 4) {
      const lanes = min(4, T - t);
      let e00 = f32x4.splat(0), e01 = f32x4.splat(0), e10 = f32x4.splat(0), e11 = f32x4.splat(0);
      for (let k = 0; k < lanes; k++) {
        const oh = 2 * th;
        const ow = 2 * tw;
        const at = src + <usize>(oh * OW + ow) * 4;
        const right = ow + 1 < OW;
        const below = oh + 1 < OH;
        const v00 = load<f32>(at);
        const v01: f32 = right ? load<f32>(at, 4) : 0;
        const v10: f32 = below ? load<f32>(at + <usize>OW * 4) : 0;
        const v11: f32 = right && below ? load<f32>(at + <usize>OW * 4, 4) : 0;
        e00 = setLane(e00, k, v00);
        e01 = setLane(e01, k, v01);
        e10 = setLane(e10, k, v10);
        e11 = setLane(e11, k, v11);
        if (++tw == TW) {
          tw = 0;
          th++;
        }
      }
      // Rows of A e: (e00, e01), (e00 + e10, e01 + e11), (e00 − e10, e01 − e11), (−e10, −e11);
      // each row (u, v) times Aᵀ: (u, u + v, u − v, −v).
      const at = dst + <usize>t * 4;
      const full = lanes == 4;
      gradientRow(at, step, 0, e00, e01, full, lanes);
      gradientRow(at, step, 1, f32x4.add(e00, e10), f32x4.add(e01, e11), full, lanes);
      gradientRow(at, step, 2, f32x4.sub(e00, e10), f32x4.sub(e01, e11), full, lanes);
      gradientRow(at, step, 3, f32x4.neg(e10), f32x4.neg(e11), full, lanes);
    }
  }
}

@inline function setLane(v: v128, k: i32, x: f32): v128 {
  return k == 0 ? f32x4.replace_lane(v, 0, x) : k == 1 ? f32x4.replace_lane(v, 1, x) : k == 2 ? f32x4.replace_lane(v, 2, x) : f32x4.replace_lane(v, 3, x);
}

@inline function gradientRow(at: usize, step: usize, i: i32, u: v128, v: v128, full: bool, lanes: i32): void {
  storeTiles(at + <usize>(4 * i) * step, u, full, lanes);
  storeTiles(at + <usize>(4 * i + 1) * step, f32x4.add(u, v), full, lanes);
  storeTiles(at + <usize>(4 * i + 2) * step, f32x4.sub(u, v), full, lanes);
  storeTiles(at + <usize>(4 * i + 3) * step, f32x4.neg(v), full, lanes);
}

/** The first `lanes` lanes of v at at (a whole vector when full): tiles of the next item may follow. */
@inline function storeTiles(at: usize, v: v128, full: bool, lanes: i32): void {
  if (full) {
    v128.store(at, v);
    return;
  }
  for (let k = 0; k < lanes; k++) store<f32>(at + <usize>k * 4, lane(v, k));
}

/**
 * dW[q] += Gᵀ S[·, q] G (dW[q] = … when `overwrite`) for the Q = Co·Ci kernels (rows of Gᵀ:
 * [1 ½ ½ 0], [0 ½ −½ 0], [0 ½ ½ 1]), four kernels per vector in shares of whole groups of 4; the
 * last thread takes the rest.
 */
export function weightGradients(S: usize, dW: usize, Q: i32, overwrite: bool, scratch: usize, tid: i32, threads: i32): void {
  const step = <usize>spread(Q) * 4;
  const groups = Q >> 2;
  const g0 = shareLo(groups, tid, threads);
  const g1 = shareLo(groups, tid + 1, threads);
  for (let q = g0 * 4; q < g1 * 4; q += 4) gradientKernels(S + <usize>q * 4, step, dW + <usize>q * 36, 4, overwrite, scratch);
  if (tid == threads - 1) {
    for (let q = groups * 4; q < Q; q++) gradientKernels(S + <usize>q * 4, step, dW + <usize>q * 36, 1, overwrite, scratch);
  }
}

/**
 * Gᵀ S G for `lanes` kernels (S's 16 planes `step` bytes apart), added to their 9 taps at dw
 * (36 bytes per kernel); the 12 vectors of Gᵀ S pass through the thread's scratch (192 bytes).
 */
@inline function gradientKernels(s: usize, step: usize, dw: usize, lanes: i32, overwrite: bool, rowsScratch: usize): void {
  const half = f32x4.splat(0.5);
  // Rows of Gᵀ S: r0 = S0 + ½(S1 + S2), r1 = ½(S1 − S2), r2 = ½(S1 + S2) + S3 (Sk the rows of S).
  for (let j = 0; j < 4; j++) {
    // Column j of the three rows, kept in the order (r0, r1, r2) for the column stage below.
    const s0 = load4(s + <usize>j * step, lanes), s1 = load4(s + <usize>(4 + j) * step, lanes);
    const s2 = load4(s + <usize>(8 + j) * step, lanes), s3 = load4(s + <usize>(12 + j) * step, lanes);
    const p = f32x4.mul(f32x4.add(s1, s2), half);
    v128.store(rowsScratch + <usize>j * 16, f32x4.add(s0, p));
    v128.store(rowsScratch + <usize>(4 + j) * 16, f32x4.mul(f32x4.sub(s1, s2), half));
    v128.store(rowsScratch + <usize>(8 + j) * 16, f32x4.add(p, s3));
  }
  for (let r = 0; r < 3; r++) {
    const t0 = v128.load(rowsScratch + <usize>(4 * r) * 16), t1 = v128.load(rowsScratch + <usize>(4 * r + 1) * 16);
    const t2 = v128.load(rowsScratch + <usize>(4 * r + 2) * 16), t3 = v128.load(rowsScratch + <usize>(4 * r + 3) * 16);
    const p = f32x4.mul(f32x4.add(t1, t2), half);
    addTap(dw, r * 3, f32x4.add(t0, p), lanes, overwrite);
    addTap(dw, r * 3 + 1, f32x4.mul(f32x4.sub(t1, t2), half), lanes, overwrite);
    addTap(dw, r * 3 + 2, f32x4.add(p, t3), lanes, overwrite);
  }
}

/** lanes == 4: the vector at p; otherwise lane 0 only (one kernel), splatted. */
@inline function load4(p: usize, lanes: i32): v128 {
  return lanes == 4 ? v128.load(p) : f32x4.splat(load<f32>(p));
}

/**
 * dw[k·9 + tap] += lane k of v for the first `lanes` kernels; with `overwrite`, dw[k·9 + tap] =
 * 0 + lane k: the same bits as adding to a zeroed dw (the + 0 turns a −0 into +0, as that did).
 */
@inline function addTap(dw: usize, tap: i32, v: v128, lanes: i32, overwrite: bool): void {
  for (let k = 0; k < lanes; k++) {
    const at = dw + <usize>(k * 9 + tap) * 4;
    store<f32>(at, (overwrite ? <f32>0 : load<f32>(at)) + lane(v, k));
  }
}
