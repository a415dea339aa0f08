/**
 * Fast sliding-window kernels for 1-D and 2-D windows (1-D runs as 2-D with a height of 1);
 * 3-D windows go to the reference. For each kernel tap the range of output positions whose
 * input lies inside the image is computed once, so the inner loops over output columns carry
 * no padding tests. Every kernel visits taps and outputs in the reference's order and rounds
 * where it rounds, so results are bit-identical to backends/reference/window.ts.
 */
import type { WindowGeometry } from '../../../backend.js';
import * as ref from '../../reference/window.js';

type Float = Float32Array | Float64Array;

/** The geometry as 2-D (H = 1 for 1-D windows). */
interface G2 {
  planes: number;
  H: number; W: number;
  KH: number; KW: number;
  sh: number; sw: number;
  ph: number; pw: number;
  /** Padding after the input, for the average-pool divisor. */
  eh: number; ew: number;
  dh: number; dw: number;
  OH: number; OW: number;
}

function as2d(g: WindowGeometry): G2 | null {
  const n = g.inSize.length;
  if (n !== 1 && n !== 2) return null;
  const at = (a: number[], i: number, fill: number): number => (n === 2 ? a[i]! : i === 0 ? fill : a[0]!);
  return {
    planes: g.batch * g.channels,
    H: at(g.inSize, 0, 1), W: at(g.inSize, 1, 1),
    KH: at(g.kernel, 0, 1), KW: at(g.kernel, 1, 1),
    sh: at(g.stride, 0, 1), sw: at(g.stride, 1, 1),
    ph: at(g.padBegin, 0, 0), pw: at(g.padBegin, 1, 0),
    eh: at(g.padEnd, 0, 0), ew: at(g.padEnd, 1, 0),
    dh: at(g.dilation, 0, 1), dw: at(g.dilation, 1, 1),
    OH: at(g.outSize, 0, 1), OW: at(g.outSize, 1, 1),
  };
}

/**
 * Output positions o in [lo, hi) whose input o·s − p + k·d lies in [0, size), for each tap k of
 * one dim: lo at 2k, hi at 2k+1.
 */
function outRanges(size: number, taps: number, s: number, p: number, d: number, outs: number): Int32Array {
  const r = new Int32Array(2 * taps);
  for (let k = 0; k < taps; k++) {
    const shift = k * d - p; // input = o·s + shift
    const lo = Math.max(0, Math.ceil(-shift / s));
    const hi = Math.min(outs, Math.floor((size - 1 - shift) / s) + 1);
    r[2 * k] = Math.min(lo, outs);
    r[2 * k + 1] = Math.max(hi, r[2 * k]!);
  }
  return r;
}

/** Taps k in [lo, hi) whose input o·s − p + k·d lies in [0, size), for each output o of one dim. */
function tapRanges(size: number, taps: number, s: number, p: number, d: number, outs: number): Int32Array {
  const r = new Int32Array(2 * outs);
  for (let o = 0; o < outs; o++) {
    const start = o * s - p; // input = start + k·d
    const lo = Math.max(0, Math.ceil(-start / d));
    const hi = Math.min(taps, Math.floor((size - 1 - start) / d) + 1);
    r[2 * o] = Math.min(lo, taps);
    r[2 * o + 1] = Math.max(hi, r[2 * o]!);
  }
  return r;
}

export function im2col(x: Float, g: WindowGeometry, cols: Float): void {
  const G = as2d(g);
  if (!G) return ref.im2col(x, g, cols);
  const { H, W, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW } = G;
  const L = OH * OW;
  const rh = outRanges(H, KH, sh, ph, dh, OH);
  const rw = outRanges(W, KW, sw, pw, dw, OW);
  for (let p = 0; p < G.planes; p++) {
    const xo = p * H * W;
    let row = p * KH * KW * L;
    for (let kh = 0; kh < KH; kh++) {
      const ohLo = rh[2 * kh]!;
      const ohHi = rh[2 * kh + 1]!;
      for (let kw = 0; kw < KW; kw++, row += L) {
        const owLo = rw[2 * kw]!;
        const owHi = rw[2 * kw + 1]!;
        cols.fill(0, row, row + ohLo * OW);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const r = row + oh * OW;
          let xi = xo + (oh * sh - ph + kh * dh) * W + owLo * sw - pw + kw * dw;
          let c = r;
          for (const end = r + owLo; c < end; c++) cols[c] = 0;
          if (sw === 1) for (const end = r + owHi; c < end; c++, xi++) cols[c] = x[xi]!;
          else for (const end = r + owHi; c < end; c++, xi += sw) cols[c] = x[xi]!;
          for (const end = r + OW; c < end; c++) cols[c] = 0;
        }
        cols.fill(0, row + ohHi * OW, row + L);
      }
    }
  }
}

export function col2im(cols: Float, g: WindowGeometry, x: Float): void {
  const G = as2d(g);
  if (!G) return ref.col2im(cols, g, x);
  const { H, W, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW } = G;
  const L = OH * OW;
  const rh = outRanges(H, KH, sh, ph, dh, OH);
  const rw = outRanges(W, KW, sw, pw, dw, OW);
  for (let p = 0; p < G.planes; p++) {
    const xo = p * H * W;
    let row = p * KH * KW * L;
    for (let kh = 0; kh < KH; kh++) {
      const ohLo = rh[2 * kh]!;
      const ohHi = rh[2 * kh + 1]!;
      for (let kw = 0; kw < KW; kw++, row += L) {
        const owLo = rw[2 * kw]!;
        const owHi = rw[2 * kw + 1]!;
        for (let oh = ohLo; oh < ohHi; oh++) {
          let xi = xo + (oh * sh - ph + kh * dh) * W + owLo * sw - pw + kw * dw;
          for (let c = row + oh * OW + owLo, end = row + oh * OW + owHi; c < end; c++, xi += sw) x[xi] = x[xi]! + cols[c]!;
        }
      }
    }
  }
}

export function maxPool(x: Float, g: WindowGeometry, out: Float, indicesOrNull: Int32Array | null): void {
  const G = as2d(g);
  if (!G) return ref.maxPool(x, g, out, indicesOrNull);
  const indices = indicesOrNull ?? new Int32Array(out.length);
  const { H, W, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW } = G;
  const L = OH * OW;
  const th = tapRanges(H, KH, sh, ph, dh, OH);
  const tw = tapRanges(W, KW, sw, pw, dw, OW);
  const k22 = KH === 2 && KW === 2 && dh === 1 && dw === 1;
  for (let p = 0; p < G.planes; p++) {
    const xo = p * H * W;
    let o = p * L;
    for (let oh = 0; oh < OH; oh++) {
      const khLo = th[2 * oh]!;
      const khHi = th[2 * oh + 1]!;
      const ih0 = oh * sh - ph;
      for (let ow = 0; ow < OW; ow++, o++) {
        const kwLo = tw[2 * ow]!;
        const kwHi = tw[2 * ow + 1]!;
        const iw0 = ow * sw - pw;
        if (k22 && khLo === 0 && khHi === 2 && kwLo === 0 && kwHi === 2) {
          // The common 2×2 window, wholly inside: four taps unrolled, same rule and order.
          const i0 = ih0 * W + iw0;
          const i2 = i0 + W;
          let best = x[xo + i0]!;
          let bi = i0;
          let v = x[xo + i0 + 1]!;
          if (v > best || (v !== v && best === best)) { best = v; bi = i0 + 1; }
          v = x[xo + i2]!;
          if (v > best || (v !== v && best === best)) { best = v; bi = i2; }
          v = x[xo + i2 + 1]!;
          if (v > best || (v !== v && best === best)) { best = v; bi = i2 + 1; }
          out[o] = best;
          indices[o] = bi;
          continue;
        }
        let best = -Infinity;
        let bi = -1;
        // Taps in the reference's order; NaN propagates and the first maximum wins ties.
        for (let kh = khLo; kh < khHi; kh++) {
          const rowi = (ih0 + kh * dh) * W + iw0;
          for (let kw = kwLo; kw < kwHi; kw++) {
            const ii = rowi + kw * dw;
            const v = x[xo + ii]!;
            if (v > best || (v !== v && best === best) || bi === -1) {
              best = v;
              bi = ii;
            }
          }
        }
        out[o] = best;
        indices[o] = bi;
      }
    }
  }
}

/** Per output position of one dim: how many of its taps count toward the average's divisor. */
function divisorCounts(size: number, taps: number, s: number, p: number, e: number, d: number, outs: number, includePad: boolean): Float64Array {
  const n = new Float64Array(outs);
  for (let o = 0; o < outs; o++) {
    const start = o * s - p;
    const end = start + (taps - 1) * d + 1;
    const lo = includePad ? -p : 0;
    const hi = includePad ? size + e : size;
    n[o] = Math.max(0, Math.ceil((Math.min(end, hi) - Math.max(start, lo)) / d));
  }
  return n;
}

export function avgPool(x: Float, g: WindowGeometry, countIncludePad: boolean, out: Float): void {
  const G = as2d(g);
  if (!G) return ref.avgPool(x, g, countIncludePad, out);
  const { H, W, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW } = G;
  const L = OH * OW;
  const th = tapRanges(H, KH, sh, ph, dh, OH);
  const tw = tapRanges(W, KW, sw, pw, dw, OW);
  const nh = divisorCounts(H, KH, sh, ph, G.eh, dh, OH, countIncludePad);
  const nw = divisorCounts(W, KW, sw, pw, G.ew, dw, OW, countIncludePad);
  // The reference sums in `out`, so a float32 output rounds after every tap: so do we.
  const f32 = out instanceof Float32Array;
  for (let p = 0; p < G.planes; p++) {
    const xo = p * H * W;
    let o = p * L;
    for (let oh = 0; oh < OH; oh++) {
      const khLo = th[2 * oh]!;
      const khHi = th[2 * oh + 1]!;
      const ih0 = oh * sh - ph;
      const dvh = nh[oh]!;
      for (let ow = 0; ow < OW; ow++, o++) {
        const kwLo = tw[2 * ow]!;
        const kwHi = tw[2 * ow + 1]!;
        const base = xo + ih0 * W + ow * sw - pw;
        let acc = 0;
        for (let kh = khLo; kh < khHi; kh++) {
          const rowi = base + kh * dh * W;
          if (f32) for (let kw = kwLo; kw < kwHi; kw++) acc = Math.fround(acc + x[rowi + kw * dw]!);
          else for (let kw = kwLo; kw < kwHi; kw++) acc += x[rowi + kw * dw]!;
        }
        out[o] = acc / (dvh * nw[ow]!);
      }
    }
  }
}

export function avgPoolBackward(dy: Float, g: WindowGeometry, countIncludePad: boolean, dx: Float): void {
  const G = as2d(g);
  if (!G) return ref.avgPoolBackward(dy, g, countIncludePad, dx);
  const { H, W, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW } = G;
  const L = OH * OW;
  const rh = outRanges(H, KH, sh, ph, dh, OH);
  const rw = outRanges(W, KW, sw, pw, dw, OW);
  const nh = divisorCounts(H, KH, sh, ph, G.eh, dh, OH, countIncludePad);
  const nw = divisorCounts(W, KW, sw, pw, G.ew, dw, OW, countIncludePad);
  const q = new Float64Array(L);
  for (let p = 0; p < G.planes; p++) {
    const xo = p * H * W;
    const yo = p * L;
    for (let oh = 0, j = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++, j++) q[j] = dy[yo + j]! / (nh[oh]! * nw[ow]!);
    // Taps outer, outputs inner, as the reference adds them.
    for (let kh = 0; kh < KH; kh++) {
      const ohLo = rh[2 * kh]!;
      const ohHi = rh[2 * kh + 1]!;
      for (let kw = 0; kw < KW; kw++) {
        const owLo = rw[2 * kw]!;
        const owHi = rw[2 * kw + 1]!;
        for (let oh = ohLo; oh < ohHi; oh++) {
          let xi = xo + (oh * sh - ph + kh * dh) * W + owLo * sw - pw + kw * dw;
          for (let j = oh * OW + owLo, end = oh * OW + owHi; j < end; j++, xi += sw) dx[xi] = dx[xi]! + q[j]!;
        }
      }
    }
  }
}
