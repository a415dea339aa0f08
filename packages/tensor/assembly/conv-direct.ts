// Direct 2-D convolution for few output channels (LeNet's 1→6 5×5, say): GEMM there has
// one or two 4-row tiles, short depth and an im2col buffer as large as the work, so the
// outputs are built in registers straight from the (padded) input instead. Unit width stride,
// no dilation, groups = 1 (assembly/conv.ts decides and passes its geometry).
//
// Forward: two output channels × sixteen outputs (eight f32x4 accumulators) per step; each tap
// loads four input vectors and two weights. Weight gradient: per (channel pair, input channel,
// kernel row), two taps × two channels of accumulators run over the whole batch. Every sum runs
// in one fixed order per element (bias, then channels, kernel rows, kernel columns; or items,
// rows, columns), whatever the thread count or the element's column.

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * out [cOut, OH, OW] of one item = bias + Σ w ⋆ xp, xp [C, PH, PW] the padded input, w
 * [cOut, C, KH, KW]; `sh` the row stride. Channels o and o + 1 at a time (o + 1 aliases o
 * at an odd end, computed but not stored).
 */
export function directForward(xp: usize, w: usize, bias: usize, out: usize,
  C: i32, cOut: i32, KH: i32, KW: i32, sh: i32, PH: i32, PW: i32, OH: i32, OW: i32): void {
  const K = KH * KW;
  const plane = <usize>(PH * PW) * 4;
  for (let o = 0; o < cOut; o += 2) {
    const two = o + 1 < cOut;
    const o1 = two ? o + 1 : o;
    const w0 = w + <usize>(o * C * K) * 4;
    const w1 = w + <usize>(o1 * C * K) * 4;
    const b0 = f32x4.splat(bias ? load<f32>(bias + <usize>o * 4) : 0);
    const b1 = f32x4.splat(bias ? load<f32>(bias + <usize>o1 * 4) : 0);
    for (let oh = 0; oh < OH; oh++) {
      const y0 = out + <usize>((o * OH + oh) * OW) * 4;
      const y1 = out + <usize>((o1 * OH + oh) * OW) * 4;
      const top = xp + <usize>(oh * sh * PW) * 4;
      let ow = 0;
      for (; ow + 16 <= OW; ow += 16) {
        let a0 = b0, a1 = b0, a2 = b0, a3 = b0;
        let c0 = b1, c1 = b1, c2 = b1, c3 = b1;
        for (let c = 0; c < C; c++) {
          for (let kh = 0; kh < KH; kh++) {
            const r = top + <usize>c * plane + <usize>(kh * PW + ow) * 4;
            const t = (c * KH + kh) * KW;
            for (let kw = 0; kw < KW; kw++) {
              const p = r + <usize>kw * 4;
              const x0 = v128.load(p), x1 = v128.load(p, 16), x2 = v128.load(p, 32), x3 = v128.load(p, 48);
              const u = v128.load32_splat(w0 + <usize>(t + kw) * 4);
              const v = v128.load32_splat(w1 + <usize>(t + kw) * 4);
              a0 = fma(u, x0, a0); a1 = fma(u, x1, a1); a2 = fma(u, x2, a2); a3 = fma(u, x3, a3);
              c0 = fma(v, x0, c0); c1 = fma(v, x1, c1); c2 = fma(v, x2, c2); c3 = fma(v, x3, c3);
            }
          }
        }
        v128.store(y0 + <usize>ow * 4, a0); v128.store(y0 + <usize>ow * 4, a1, 16);
        v128.store(y0 + <usize>ow * 4, a2, 32); v128.store(y0 + <usize>ow * 4, a3, 48);
        if (two) {
          v128.store(y1 + <usize>ow * 4, c0); v128.store(y1 + <usize>ow * 4, c1, 16);
          v128.store(y1 + <usize>ow * 4, c2, 32); v128.store(y1 + <usize>ow * 4, c3, 48);
        }
      }
      // The rest four at a time, then one at a time (same taps, same order, same multiply-add).
      for (; ow < OW; ow += 4) {
        const n = min(4, OW - ow);
        let a0 = b0, c0 = b1;
        for (let c = 0; c < C; c++) {
          for (let kh = 0; kh < KH; kh++) {
            const r = top + <usize>c * plane + <usize>(kh * PW + ow) * 4;
            const t = (c * KH + kh) * KW;
            for (let kw = 0; kw < KW; kw++) {
              const p = r + <usize>kw * 4;
              const x0 = n == 4 ? v128.load(p)
                : f32x4(load<f32>(p), n > 1 ? load<f32>(p, 4) : 0, n > 2 ? load<f32>(p, 8) : 0, 0);
              a0 = fma(v128.load32_splat(w0 + <usize>(t + kw) * 4), x0, a0);
              c0 = fma(v128.load32_splat(w1 + <usize>(t + kw) * 4), x0, c0);
            }
          }
        }
        for (let i = 0; i < n; i++) {
          const d = <usize>(ow + i) * 4;
          // Lane i of a0/c0 (extract_lane needs a constant lane).
          store<f32>(y0 + d, i == 0 ? f32x4.extract_lane(a0, 0) : i == 1 ? f32x4.extract_lane(a0, 1) : i == 2 ? f32x4.extract_lane(a0, 2) : f32x4.extract_lane(a0, 3));
          if (two) store<f32>(y1 + d, i == 0 ? f32x4.extract_lane(c0, 0) : i == 1 ? f32x4.extract_lane(c0, 1) : i == 2 ? f32x4.extract_lane(c0, 2) : f32x4.extract_lane(c0, 3));
        }
      }
    }
  }
}

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * plane [PH, PW] = channel c of one item x [C, IH, IW] placed at (ph, pw) with zeros around
 * (what the windows reach past the input also reads zero).
 */
export function padChannel(x: usize, c: i32, IH: i32, IW: i32, ph: i32, pw: i32, plane: usize, PH: i32, PW: i32): void {
  memory.fill(plane, 0, <usize>(PH * PW + 8) * 4);
  const h = min(IH, PH - ph);
  const w = min(IW, PW - pw);
  const src = x + <usize>(c * IH * IW) * 4;
  for (let ih = 0; ih < h; ih++) {
    memory.copy(plane + <usize>((ih + ph) * PW + pw) * 4, src + <usize>(ih * IW) * 4, <usize>w * 4);
  }
}

/**
 * Thread `tid`'s share of dW [cOut, C, KH, KW] += Σ over `N` items of dy ⋆ x (dW = 0 + Σ … when
 * `overwrite`: the same bits as adding to a zeroed dW, without a pass to zero it). Units (channel
 * pair, input channel) are dealt to threads round robin; for each item in turn the unit pads
 * its input channel into `plane` (PH × PW + 8 floats) and adds the item's sums, per tap and
 * channel, into `sums` (2·KH·KW floats), so every weight's gradient is summed in item order.
 */
export function directBackwardWeight(x: usize, dy: usize, dw: usize, N: i32, C: i32, cOut: i32,
  IH: i32, IW: i32, KH: i32, KW: i32, sh: i32, ph: i32, pw: i32, PH: i32, PW: i32, OH: i32, OW: i32,
  plane: usize, sums: usize, overwrite: bool, tid: i32, threads: i32): void {
  const K = KH * KW;
  const units = ((cOut + 1) >> 1) * C;
  const L = OH * OW;
  for (let u = tid; u < units; u += threads) {
    const o = (u / C) * 2;
    const c = u % C;
    const two = o + 1 < cOut;
    const o1 = two ? o + 1 : o;
    memory.fill(sums, 0, <usize>(2 * K) * 4);
    for (let n = 0; n < N; n++) {
      padChannel(x + <usize>(n * C * IH * IW) * 4, c, IH, IW, ph, pw, plane, PH, PW);
      const g0 = dy + <usize>((n * cOut + o) * L) * 4;
      const g1 = dy + <usize>((n * cOut + o1) * L) * 4;
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw += 2) {
          let a0 = f32x4.splat(0), a1 = f32x4.splat(0), c0 = f32x4.splat(0), c1 = f32x4.splat(0);
          let ta0: f32 = 0, ta1: f32 = 0, tc0: f32 = 0, tc1: f32 = 0;
          for (let oh = 0; oh < OH; oh++) {
            const r = plane + <usize>((oh * sh + kh) * PW + kw) * 4;
            const d0 = g0 + <usize>(oh * OW) * 4;
            const d1 = g1 + <usize>(oh * OW) * 4;
            let ow = 0;
            for (; ow + 4 <= OW; ow += 4) {
              const e = <usize>ow * 4;
              const x0 = v128.load(r + e);
              const x1 = v128.load(r + e, 4);
              const y0 = v128.load(d0 + e);
              const y1 = v128.load(d1 + e);
              a0 = fma(y0, x0, a0); a1 = fma(y0, x1, a1);
              c0 = fma(y1, x0, c0); c1 = fma(y1, x1, c1);
            }
            for (; ow < OW; ow++) {
              const e = <usize>ow * 4;
              const x0 = load<f32>(r + e), x1 = load<f32>(r + e, 4);
              const y0 = load<f32>(d0 + e), y1 = load<f32>(d1 + e);
              ta0 += y0 * x0; ta1 += y0 * x1; tc0 += y1 * x0; tc1 += y1 * x1;
            }
          }
          // sums: [tap][channel of the pair]; the second tap of an odd end is garbage, never stored.
          const s = sums + <usize>((kh * KW + kw) * 2) * 4;
          store<f32>(s, load<f32>(s) + (hsum(a0) + ta0));
          store<f32>(s, load<f32>(s, 4) + (hsum(c0) + tc0), 4);
          if (kw + 1 < KW) {
            store<f32>(s, load<f32>(s, 8) + (hsum(a1) + ta1), 8);
            store<f32>(s, load<f32>(s, 12) + (hsum(c1) + tc1), 12);
          }
        }
      }
    }
    for (let t = 0; t < K; t++) {
      const p0 = dw + <usize>((o * C + c) * K + t) * 4;
      store<f32>(p0, (overwrite ? <f32>0 : load<f32>(p0)) + load<f32>(sums + <usize>(t * 2) * 4));
      if (two) {
        const p1 = dw + <usize>((o1 * C + c) * K + t) * 4;
        store<f32>(p1, (overwrite ? <f32>0 : load<f32>(p1)) + load<f32>(sums + <usize>(t * 2) * 4, 4));
      }
    }
  }
}
