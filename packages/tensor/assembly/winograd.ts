// Winograd F(2×2, 3×3) convolution for Kiln's wasm backend: stride 1, dilation 1, groups 1.
//
// Each 2×2 block of outputs (a tile) comes from a 4×4 block of the input: d → V = Bᵀ d B, the
// 3×3 kernel g → U = G g Gᵀ, then the tile is Aᵀ (U ⊙ V) A. Summed over input channels, the
// elementwise products become 16 independent GEMMs, one per position ξ of the 4×4 transform:
// M[ξ] (Co × P) = U[ξ] (Co × Ci) · V[ξ] (Ci × P), P = tiles of all items. That is 16 products
// per tile and channel pair where the direct convolution needs 36: 2.25× fewer multiply-adds.
//
// The work is three pool tasks (convTask with word 0 = 3, 4, 5): transform weights and inputs,
// the 16 GEMMs, transform outputs. The weight gradient is the adjoint (winograd-weight.ts):
// S[ξ] = Σ over tiles of (A dy Aᵀ)[ξ] · V[ξ] (16 GEMMs over the tiles, phases 6 and 7), then
// dW += Gᵀ S G (phase 8). Each element of each phase is computed by one thread in a fixed
// order, whatever the split, so results do not depend on the thread count.
//
// The input gradient is the same convolution of dy by the flipped, transposed kernel with
// padding 2 − p. Flipping g in both dims permutes U: G·J = Π·G with Π swapping rows 0 and 3
// (J the 3×3 reversal), so G J g J Gᵀ = Π U Π — the weight transform writes U to the swapped
// positions and the GEMMs read it transposed, with no second transform.
import { sgemm } from './gemm';
import { transformGradients, weightGradients } from './winograd-weight';

/**
 * Descriptor words (i32, f32 where said): 0 phase (3 transforms in, 4 GEMMs, 5 transform out;
 * 6–8 the weight gradient's),
 * 1 N (items in this chunk), 2 Ci, 3 Co, 4 H, 5 W (input size), 6 PH, 7 PW (padding before),
 * 8 OH, 9 OW (output size), 10 x [N, Ci, H, W], 11 w (the layer's weights [Co, Ci, 3, 3], or for
 * the input gradient [Ci, Co, 3, 3], flipped), 12 flip (1: input gradient), 13 U [16, Co, Ci]
 * (0: already transformed; flipped: [16, Ci, Co]), 14 V [16, Ci, PS], 15 M [16, Co, PS] (planes
 * spread(…) apart), 16 y [N, Co, OH, OW], 17 bias (0: none), 18 accumulate into y (phase 7:
 * into S; phase 8: 0 adds to dW, 1 overwrites it), 19 clamp, 20–21 its bounds (f32), 22 GEMM scratch, 23 bytes of GEMM scratch per
 * thread, 24 padded-plane buffers (one per running thread), 25 bytes per thread's buffer.
 * PS = P rounded up to 4 (P = N·TH·TW tiles) so the output transform reads 4 tiles per vector.
 * Weight gradient (phases 6–8): 11 dW [Co, Ci, 3, 3] (added to, or overwritten: word 18), 13 S [16, Co, Ci], 15 Ŷ
 * [16, Co, PS], 16 dy [N, Co, OH, OW].
 */
export function winogradTask(desc: usize, tid: i32, threads: i32, thread: i32): void {
  // tid and threads: this share and the number of shares; `thread` (the thread running it)
  // picks the padded-plane buffer, so a thread may run several transform shares in turn.
  const phase = load<i32>(desc);
  const N = load<i32>(desc, 4);
  const Ci = load<i32>(desc, 8);
  const Co = load<i32>(desc, 12);
  const OH = load<i32>(desc, 32);
  const OW = load<i32>(desc, 36);
  const TH = (OH + 1) >> 1;
  const TW = (OW + 1) >> 1;
  const P = N * TH * TW;
  const PS = (P + 3) & ~3;
  const U = <usize>load<i32>(desc, 52);
  const V = <usize>load<i32>(desc, 56);
  const M = <usize>load<i32>(desc, 60);
  if (phase == 3) {
    if (U) transformWeights(<usize>load<i32>(desc, 44), U, Co, Ci, load<i32>(desc, 48) != 0, tid, threads);
    const plane = <usize>load<i32>(desc, 96) + <usize>thread * <usize>load<i32>(desc, 100);
    transformInputs(<usize>load<i32>(desc, 40), V, N, Ci, load<i32>(desc, 16), load<i32>(desc, 20), load<i32>(desc, 24), load<i32>(desc, 28),
      TH, TW, PS, plane, tid, threads);
  } else if (phase == 4) {
    const gs = <usize>load<i32>(desc, 88) + <usize>tid * <usize>load<i32>(desc, 92);
    // Flipped (input gradient): U[ξ] holds the layer's [Ci, Co] kernels, read transposed.
    const flip = load<i32>(desc, 48) != 0;
    const rs = flip ? 1 : Ci;
    const cs = flip ? Co : 1;
    for (let xi = tid; xi < 16; xi += threads) {
      sgemm(Co, P, Ci, U + <usize>(xi * spread(Co * Ci)) * 4, rs, cs, V + <usize>(xi * spread(Ci * PS)) * 4, PS, 1,
        M + <usize>(xi * spread(Co * PS)) * 4, PS, false, gs);
    }
  } else if (phase == 6) {
    const plane = <usize>load<i32>(desc, 96) + <usize>thread * <usize>load<i32>(desc, 100);
    transformInputs(<usize>load<i32>(desc, 40), V, N, Ci, load<i32>(desc, 16), load<i32>(desc, 20), load<i32>(desc, 24), load<i32>(desc, 28),
      TH, TW, PS, plane, tid, threads);
    transformGradients(<usize>load<i32>(desc, 64), M, N, Co, OH, OW, TH, TW, PS, tid, threads);
  } else if (phase == 7) {
    // S[ξ] (Co × Ci) += Ŷ[ξ] (Co × P) · V[ξ]ᵀ, summed over the chunks in order.
    const gs = <usize>load<i32>(desc, 88) + <usize>tid * <usize>load<i32>(desc, 92);
    const accumulate = load<i32>(desc, 72) != 0;
    for (let xi = tid; xi < 16; xi += threads) {
      sgemm(Co, Ci, P, M + <usize>(xi * spread(Co * PS)) * 4, PS, 1, V + <usize>(xi * spread(Ci * PS)) * 4, 1, PS,
        U + <usize>(xi * spread(Co * Ci)) * 4, Ci, accumulate, gs);
    }
  } else if (phase == 8) {
    const scratch = (<usize>load<i32>(desc, 96) + <usize>thread * <usize>load<i32>(desc, 100) + 15) & ~15;
    weightGradients(U, <usize>load<i32>(desc, 44), Co * Ci, load<i32>(desc, 72) != 0, scratch, tid, threads);
  } else {
    transformOutputs(M, <usize>load<i32>(desc, 64), <usize>load<i32>(desc, 68), load<i32>(desc, 72) != 0, load<i32>(desc, 76) != 0,
      load<f32>(desc, 80), load<f32>(desc, 84), N, Co, OH, OW, TH, TW, PS, tid, threads);
  }
}

/**
 * Floats from one transform position's plane of U, V or M to the next: 16 more than the plane,
 * as planes a power of two apart (64·64 floats…) would map the 16 streams the transforms read or
 * write side by side onto the same cache sets.
 */
@inline export function spread(plane: i32): i32 {
  return plane + 16;
}

/** Start of thread `tid`'s share of `n` rows (contiguous shares, sizes within one of each other). */
@inline export function shareLo(n: i32, tid: i32, threads: i32): i32 {
  return <i32>((<i64>n * tid) / threads);
}

/**
 * U[ξ, o, i] = (G g Gᵀ)[ξ] for each kernel g = w[o, i] (rows of G: [1 0 0], [½ ½ ½], [½ −½ ½],
 * [0 0 1]). With `flip`, w is the layer's [Ci', Co'] = [Co, Ci]-transposed kernel set and each
 * result goes to the rows-and-columns-swapped position (0 ↔ 3): U for the flipped kernels.
 */
function transformWeights(w: usize, U: usize, Co: i32, Ci: i32, flip: bool, tid: i32, threads: i32): void {
  const Q = Co * Ci;
  const step = <usize>spread(Q) * 4;
  // Four kernels per vector, in shares of whole groups of 4; the last thread takes the rest.
  const groups = Q >> 2;
  const g0 = shareLo(groups, tid, threads);
  const g1 = shareLo(groups, tid + 1, threads);
  for (let q = g0 * 4; q < g1 * 4; q += 4) {
    const g = w + <usize>q * 36;
    // Flipped, w is [Ci, Co, 3, 3] (kernel q feeds output channel q % Co from input channel
    // q / Co): U keeps that order and the GEMM reads it transposed.
    kernelRows(gather(g, 0), gather(g, 1), gather(g, 2), gather(g, 3), gather(g, 4), gather(g, 5),
      gather(g, 6), gather(g, 7), gather(g, 8), U + <usize>q * 4, step, flip);
  }
  if (tid != threads - 1) return;
  for (let q = groups * 4; q < Q; q++) {
    const g = w + <usize>q * 36;
    kernelRows(f32x4.splat(load<f32>(g)), f32x4.splat(load<f32>(g, 4)), f32x4.splat(load<f32>(g, 8)),
      f32x4.splat(load<f32>(g, 12)), f32x4.splat(load<f32>(g, 16)), f32x4.splat(load<f32>(g, 20)),
      f32x4.splat(load<f32>(g, 24)), f32x4.splat(load<f32>(g, 28)), f32x4.splat(load<f32>(g, 32)), 0, step, flip, U + <usize>q * 4);
  }
}

/** Tap k of the 4 kernels at g (36 floats apart). */
@inline function gather(g: usize, k: i32): v128 {
  const o = <usize>k * 4;
  let v = f32x4.splat(load<f32>(g + o));
  v = f32x4.replace_lane(v, 1, load<f32>(g + o + 36));
  v = f32x4.replace_lane(v, 2, load<f32>(g + o + 72));
  return f32x4.replace_lane(v, 3, load<f32>(g + o + 108));
}

/**
 * U for kernels whose taps are a0…c2 (rows a, b, c; each a vector over 4 kernels): the rows of
 * G g are a, s + h, s − h, c with s = (a + c)/2, h = b/2, each then times Gᵀ. Vectors go to
 * dst (4 kernels); with `one` set instead, lane 0 only goes there (the last Q % 4 kernels).
 */
@inline function kernelRows(a0: v128, a1: v128, a2: v128, b0: v128, b1: v128, b2: v128, c0: v128, c1: v128, c2: v128,
  dst: usize, step: usize, flip: bool, one: usize = 0): void {
  const half = f32x4.splat(0.5);
  const s0 = f32x4.mul(f32x4.add(a0, c0), half), s1 = f32x4.mul(f32x4.add(a1, c1), half), s2 = f32x4.mul(f32x4.add(a2, c2), half);
  const h0 = f32x4.mul(b0, half), h1 = f32x4.mul(b1, half), h2 = f32x4.mul(b2, half);
  row(a0, a1, a2, dst, step, flip, 0, one);
  row(f32x4.add(s0, h0), f32x4.add(s1, h1), f32x4.add(s2, h2), dst, step, flip, 1, one);
  row(f32x4.sub(s0, h0), f32x4.sub(s1, h1), f32x4.sub(s2, h2), dst, step, flip, 2, one);
  row(c0, c1, c2, dst, step, flip, 3, one);
}

/** Row r of U (one row of G g times Gᵀ) stored at ξ = 4r + j, or at the swapped position when flipped. */
@inline function row(x0: v128, x1: v128, x2: v128, dst: usize, step: usize, flip: bool, r: i32, one: usize): void {
  const half = f32x4.splat(0.5);
  const s = f32x4.mul(f32x4.add(x0, x2), half);
  const h = f32x4.mul(x1, half);
  const rr = flip ? swap03(r) : r;
  put4(dst, one, <usize>(rr * 4 + (flip ? 3 : 0)) * step, x0);
  put4(dst, one, <usize>(rr * 4 + 1) * step, f32x4.add(s, h));
  put4(dst, one, <usize>(rr * 4 + 2) * step, f32x4.sub(s, h));
  put4(dst, one, <usize>(rr * 4 + (flip ? 0 : 3)) * step, x2);
}

@inline function put4(dst: usize, one: usize, offset: usize, v: v128): void {
  if (one) store<f32>(one + offset, f32x4.extract_lane(v, 0));
  else v128.store(dst + offset, v);
}

@inline function swap03(r: i32): i32 {
  return r == 0 ? 3 : r == 3 ? 0 : r;
}

/**
 * V[ξ, c, p] = (Bᵀ d B)[ξ] for every 4×4 input block d (rows of Bᵀ: [1 0 −1 0], [0 1 1 0],
 * [0 −1 1 0], [0 1 0 −1]); tile p = (n·TH + th)·TW + tw reads rows 2th − PH … + 3 and columns
 * 2tw − PW … + 3. Each thread takes a contiguous share of the (item, channel) planes and copies
 * each into its zero-padded buffer first, so the blocks are read without bounds checks.
 */
function transformInputs(x: usize, V: usize, N: i32, Ci: i32, H: i32, W: i32, PH: i32, PW: i32,
  TH: i32, TW: i32, PS: i32, plane: usize, tid: i32, threads: i32): void {
  const RH = 2 * TH + 2;
  const RW = 2 * TW + 2;
  const r0 = shareLo(N * Ci, tid, threads);
  const r1 = shareLo(N * Ci, tid + 1, threads);
  const step = <usize>spread(Ci * PS) * 4;
  // Input rows and columns that land in the buffer.
  const ih1 = min(H, RH - PH);
  const iw1 = min(W, RW - PW);
  memory.fill(plane, 0, <usize>(RH * RW) * 4);
  const T = TH * TW;
  // 4 tiles' columns (16 vectors) after the padded plane.
  const tmp = (plane + <usize>(RH * RW) * 4 + 15) & ~15;
  for (let r = r0; r < r1; r++) {
    const n = r / Ci;
    const c = r - n * Ci;
    const src = x + <usize>(r * H * W) * 4;
    // Rows and columns outside the input stay zero (only the interior is rewritten per plane).
    for (let ih = 0; ih < ih1; ih++) {
      const d = plane + <usize>((ih + PH) * RW + PW) * 4;
      const s = src + <usize>(ih * W) * 4;
      let iw = 0;
      for (; iw + 4 <= iw1; iw += 4) v128.store(d + <usize>iw * 4, v128.load(s + <usize>iw * 4));
      for (; iw < iw1; iw++) store<f32>(d + <usize>iw * 4, load<f32>(s + <usize>iw * 4));
    }
    const dst = V + <usize>((c * PS) + n * T) * 4;
    // Four tiles at a time: their columns go through a scratch block and are transposed, so
    // each transform position gets one vector store (4 consecutive tiles) instead of 4 scalars.
    let t = 0;
    let th = 0;
    let tw = 0;
    for (; t + 4 <= T; t += 4) {
      for (let k = 0; k < 4; k++) {
        tileColumns(plane + <usize>((2 * th * RW) + 2 * tw) * 4, RW, tmp + <usize>k * 64);
        if (++tw == TW) {
          tw = 0;
          th++;
        }
      }
      const at = dst + <usize>t * 4;
      for (let j = 0; j < 4; j++) {
        const a = v128.load(tmp + <usize>j * 16);
        const b = v128.load(tmp + <usize>j * 16 + 64);
        const cc = v128.load(tmp + <usize>j * 16 + 128);
        const d = v128.load(tmp + <usize>j * 16 + 192);
        const u0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
        const u1 = v128.shuffle<f32>(cc, d, 0, 4, 1, 5);
        const u2 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
        const u3 = v128.shuffle<f32>(cc, d, 2, 6, 3, 7);
        v128.store(at + <usize>j * step, v128.shuffle<f32>(u0, u1, 0, 1, 4, 5));
        v128.store(at + <usize>(4 + j) * step, v128.shuffle<f32>(u0, u1, 2, 3, 6, 7));
        v128.store(at + <usize>(8 + j) * step, v128.shuffle<f32>(u2, u3, 0, 1, 4, 5));
        v128.store(at + <usize>(12 + j) * step, v128.shuffle<f32>(u2, u3, 2, 3, 6, 7));
      }
    }
    for (; t < T; t++) {
      tileColumns(plane + <usize>((2 * th * RW) + 2 * tw) * 4, RW, tmp);
      for (let j = 0; j < 4; j++) storeColumn(dst + <usize>t * 4, step, j, v128.load(tmp + <usize>j * 16));
      if (++tw == TW) {
        tw = 0;
        th++;
      }
    }
  }
}

/**
 * Bᵀ d B of the 4×4 block at b (rows RW floats apart) as 4 vectors at out: vector j holds
 * ξ = 4i + j over i.
 */
@inline function tileColumns(b: usize, RW: i32, out: usize): void {
  const d0 = v128.load(b);
  const d1 = v128.load(b + <usize>RW * 4);
  const d2 = v128.load(b + <usize>RW * 8);
  const d3 = v128.load(b + <usize>RW * 12);
  // Bᵀ d: combinations of rows (each vector: the 4 columns).
  const t0 = f32x4.sub(d0, d2);
  const t1 = f32x4.add(d1, d2);
  const t2 = f32x4.sub(d2, d1);
  const t3 = f32x4.sub(d1, d3);
  // Transpose so each vector holds one column j of Bᵀ d, over the rows.
  const u0 = v128.shuffle<f32>(t0, t1, 0, 4, 1, 5);
  const u1 = v128.shuffle<f32>(t2, t3, 0, 4, 1, 5);
  const u2 = v128.shuffle<f32>(t0, t1, 2, 6, 3, 7);
  const u3 = v128.shuffle<f32>(t2, t3, 2, 6, 3, 7);
  const k0 = v128.shuffle<f32>(u0, u1, 0, 1, 4, 5);
  const k1 = v128.shuffle<f32>(u0, u1, 2, 3, 6, 7);
  const k2 = v128.shuffle<f32>(u2, u3, 0, 1, 4, 5);
  const k3 = v128.shuffle<f32>(u2, u3, 2, 3, 6, 7);
  // (Bᵀ d) B: combinations of those columns.
  v128.store(out, f32x4.sub(k0, k2));
  v128.store(out, f32x4.add(k1, k2), 16);
  v128.store(out, f32x4.sub(k2, k1), 32);
  v128.store(out, f32x4.sub(k1, k3), 48);
}

/** Lane i of v goes to V[ξ = 4i + j] (planes `step` bytes apart). */
@inline function storeColumn(dst: usize, step: usize, j: i32, v: v128): void {
  store<f32>(dst + <usize>j * step, f32x4.extract_lane(v, 0));
  store<f32>(dst + <usize>(4 + j) * step, f32x4.extract_lane(v, 1));
  store<f32>(dst + <usize>(8 + j) * step, f32x4.extract_lane(v, 2));
  store<f32>(dst + <usize>(12 + j) * step, f32x4.extract_lane(v, 3));
}

/**
 * y[n, o] tile = Aᵀ m A (rows of Aᵀ: [1 1 1 0], [0 1 −1 −1]) for m = M[·, o, p], four tiles per
 * vector; plus the bias, or added to y (accumulate), then clamped. Threads take contiguous
 * shares of the output channels (every tile of a channel on one thread).
 */
function transformOutputs(M: usize, y: usize, bias: usize, accumulate: bool, clamp: bool, lo: f32, hi: f32,
  N: i32, Co: i32, OH: i32, OW: i32, TH: i32, TW: i32, PS: i32, tid: i32, threads: i32): void {
  const o0 = shareLo(Co, tid, threads);
  const o1 = shareLo(Co, tid + 1, threads);
  const T = TH * TW;
  const P = N * T;
  const step = <usize>spread(Co * PS) * 4;
  const L = OH * OW;
  // Whole tiles, an even number per tile row and a multiple of 4 per item: 4 tiles (one vector)
  // fill 4 output runs of 4 (ResNet's 8×8 and 4×4 maps).
  const even = (OH & 1) == 0 && (OW & 1) == 0 && (TW & 1) == 0 && (T & 3) == 0;
  const lov = f32x4.splat(lo);
  const hiv = f32x4.splat(hi);
  for (let o = o0; o < o1; o++) {
    const b: f32 = bias ? load<f32>(bias + <usize>o * 4) : 0;
    const bv = f32x4.splat(b);
    const row = M + <usize>(o * PS) * 4;
    for (let p0 = 0; p0 < P; p0 += 4) {
      const m = row + <usize>p0 * 4;
      // Aᵀ m: two rows from the four of m (each m_ij a vector over 4 tiles).
      const m00 = v128.load(m), m01 = v128.load(m + step), m02 = v128.load(m + step * 2), m03 = v128.load(m + step * 3);
      const m10 = v128.load(m + step * 4), m11 = v128.load(m + step * 5), m12 = v128.load(m + step * 6), m13 = v128.load(m + step * 7);
      const m20 = v128.load(m + step * 8), m21 = v128.load(m + step * 9), m22 = v128.load(m + step * 10), m23 = v128.load(m + step * 11);
      const m30 = v128.load(m + step * 12), m31 = v128.load(m + step * 13), m32 = v128.load(m + step * 14), m33 = v128.load(m + step * 15);
      const a0 = f32x4.add(f32x4.add(m00, m10), m20), a1 = f32x4.add(f32x4.add(m01, m11), m21);
      const a2 = f32x4.add(f32x4.add(m02, m12), m22), a3 = f32x4.add(f32x4.add(m03, m13), m23);
      const c0 = f32x4.sub(f32x4.sub(m10, m20), m30), c1 = f32x4.sub(f32x4.sub(m11, m21), m31);
      const c2 = f32x4.sub(f32x4.sub(m12, m22), m32), c3 = f32x4.sub(f32x4.sub(m13, m23), m33);
      // (Aᵀ m) A, then the bias.
      const y00 = f32x4.add(f32x4.add(f32x4.add(a0, a1), a2), bv);
      const y01 = f32x4.add(f32x4.sub(f32x4.sub(a1, a2), a3), bv);
      const y10 = f32x4.add(f32x4.add(f32x4.add(c0, c1), c2), bv);
      const y11 = f32x4.add(f32x4.sub(f32x4.sub(c1, c2), c3), bv);
      if (even) {
        // Tiles p0, p0 + 1 share a tile row, and so do p0 + 2, p0 + 3: interleaving the
        // columns gives 4 consecutive outputs of each output row.
        const n = p0 / T;
        const t = p0 - n * T;
        const th = t / TW;
        const tw = t - th * TW;
        const plane = y + <usize>((n * Co + o) * L) * 4;
        const at = plane + <usize>(2 * th * OW + 2 * tw) * 4;
        putVector(at, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5), accumulate, clamp, lov, hiv);
        putVector(at + <usize>OW * 4, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5), accumulate, clamp, lov, hiv);
        const th2 = tw + 2 < TW ? th : th + 1;
        const tw2 = tw + 2 < TW ? tw + 2 : 0;
        const at2 = plane + <usize>(2 * th2 * OW + 2 * tw2) * 4;
        putVector(at2, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), accumulate, clamp, lov, hiv);
        putVector(at2 + <usize>OW * 4, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), accumulate, clamp, lov, hiv);
        continue;
      }
      const lanes = min(4, P - p0);
      for (let k = 0; k < lanes; k++) {
        const p = p0 + k;
        const n = p / T;
        const t = p - n * T;
        const th = t / TW;
        const tw = t - th * TW;
        const oh = 2 * th;
        const ow = 2 * tw;
        const at = y + <usize>((n * Co + o) * L + oh * OW + ow) * 4;
        const right = ow + 1 < OW;
        const below = oh + 1 < OH;
        put(at, lane(y00, k), accumulate, clamp, lo, hi);
        if (right) put(at + 4, lane(y01, k), accumulate, clamp, lo, hi);
        if (below) {
          put(at + <usize>OW * 4, lane(y10, k), accumulate, clamp, lo, hi);
          if (right) put(at + <usize>OW * 4 + 4, lane(y11, k), accumulate, clamp, lo, hi);
        }
      }
    }
  }
}

@inline export function lane(v: v128, k: i32): f32 {
  // A variable lane index: through a switch (extract_lane takes a constant).
  return k == 0 ? f32x4.extract_lane(v, 0) : k == 1 ? f32x4.extract_lane(v, 1) : k == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

/** Writes (or adds) one output, clamped with clampF32's comparisons (NaN kept). */
@inline function put(at: usize, v: f32, accumulate: bool, clamp: bool, lo: f32, hi: f32): void {
  let r = accumulate ? load<f32>(at) + v : v;
  if (clamp) r = r < lo ? lo : r > hi ? hi : r;
  store<f32>(at, r);
}

/** put for 4 consecutive outputs (clampF32's pmax/pmin: the same comparisons). */
@inline function putVector(at: usize, v: v128, accumulate: bool, clamp: bool, lo: v128, hi: v128): void {
  let r = accumulate ? f32x4.add(v128.load(at), v) : v;
  if (clamp) r = f32x4.pmin(f32x4.pmax(r, lo), hi);
  v128.store(at, r);
}
