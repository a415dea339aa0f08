// Depthwise 2-D convolution (groups = channels, one input channel per group, `mult` output
// channels per input channel) for Kiln's wasm backend: a direct kernel instead of one tiny GEMM
// per group. Each thread takes whole input-channel planes: it copies the plane into a zero-padded
// buffer once, then every output row is built in registers, eight outputs at a time, tap by
// tap (stride 1 reads the padded row directly; stride 2 splits even lanes out of two loads).
//
// The input gradient scatters each dy row back over the padded plane (SIMD for stride 1) and
// adds the plane's interior into dx; the weight gradient sums dy · window over the batch, one
// SIMD accumulator per tap. Work is split by input channel (and batch item for the first two
// modes); each output element's sum runs in one fixed order, so results do not depend on the
// thread count.

import { clampF32 } from './elementwise';

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

let N: i32, C: i32, MULT: i32;
let IH: i32, IW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32;
let OH: i32, OW: i32, PIH: i32, PIW: i32;

/**
 * The padded plane's size in floats, plus slack for the last vector loads: the 3×3 body's last
 * partial group of eight outputs reads up to 14 floats past the plane (wasm/depthwise.ts sizes
 * the buffers to match).
 */
@inline function paddedFloats(): i32 {
  return PIH * PIW + 16;
}

/** The first n (0–3) lanes of v at p. */
@inline function storeLanes(p: usize, v: v128, n: i32): void {
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * xp [PIH, PIW] = plane x [IH, IW] placed at (PH, PW), zeros around it (and in the slack).
 * Only the border is zeroed: filling the whole plane first would write it twice.
 */
function padPlane(x: usize, xp: usize): void {
  const rowBytes = <usize>PIW * 4;
  const top = min(PH, PIH);
  const rows = max(0, min(IH, PIH - PH));
  const left = min(PW, PIW);
  const w = max(0, min(IW, PIW - PW));
  const right = PIW - left - w;
  memory.fill(xp, 0, <usize>top * rowBytes);
  for (let ih = 0; ih < rows; ih++) {
    const r = xp + <usize>(top + ih) * rowBytes;
    for (let i = 0; i < left; i++) store<f32>(r + <usize>i * 4, 0);
    const d = r + <usize>left * 4;
    const s = x + <usize>(ih * IW) * 4;
    let i = 0;
    for (; i + 4 <= w; i += 4) v128.store(d + <usize>i * 4, v128.load(s + <usize>i * 4));
    for (; i < w; i++) store<f32>(d + <usize>i * 4, load<f32>(s + <usize>i * 4));
    const e = d + <usize>w * 4;
    for (let k = 0; k < right; k++) store<f32>(e + <usize>k * 4, 0);
  }
  const done = <usize>(top + rows) * rowBytes;
  memory.fill(xp + done, 0, <usize>paddedFloats() * 4 - done);
}

/** Four floats at p, p + 2, p + 4, p + 6 (stride-2 columns). */
@inline function evens(p: usize): v128 {
  return v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
}

/** Four floats at p + 4, p + 12, p + 20, p + 28 bytes (the odd columns of a stride-2 window). */
@inline function odds(p: usize): v128 {
  return v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 1, 3, 5, 7);
}

/**
 * The 3×3, undilated window of stride 1 or 2 (MobileNets' depthwise layers), eight outputs at
 * a time with the nine weights held in registers; stride 2 shares the loads of the first two
 * columns' taps. A row's last 1–7 outputs are computed as a whole group too (the loads run on
 * into the next row or the plane's slack; only the row's lanes are stored), so 14×14 and 7×7
 * planes need no scalar tail. Same taps, order and multiply-add as forwardPlane, so the same
 * values. Returns the columns done: all of them.
 */
function forward3x3Body(xp: usize, wo: usize, bias: v128, out: usize): i32 {
  const w0 = v128.load32_splat(wo), w1 = v128.load32_splat(wo, 4), w2 = v128.load32_splat(wo, 8);
  const w3 = v128.load32_splat(wo, 12), w4 = v128.load32_splat(wo, 16), w5 = v128.load32_splat(wo, 20);
  const w6 = v128.load32_splat(wo, 24), w7 = v128.load32_splat(wo, 28), w8 = v128.load32_splat(wo, 32);
  const rowBytes = <usize>PIW * 4;
  for (let oh = 0; oh < OH; oh++) {
    const row = out + <usize>(oh * OW) * 4;
    const r0 = xp + <usize>(oh * SH) * rowBytes;
    const r1 = r0 + rowBytes;
    const r2 = r1 + rowBytes;
    for (let ow = 0; ow < OW; ow += 8) {
      let a0 = bias;
      let a1 = bias;
      if (SW == 1) {
        const o = <usize>ow * 4;
        a0 = fma(w0, v128.load(r0 + o), a0); a1 = fma(w0, v128.load(r0 + o, 16), a1);
        a0 = fma(w1, v128.load(r0 + o, 4), a0); a1 = fma(w1, v128.load(r0 + o, 20), a1);
        a0 = fma(w2, v128.load(r0 + o, 8), a0); a1 = fma(w2, v128.load(r0 + o, 24), a1);
        a0 = fma(w3, v128.load(r1 + o), a0); a1 = fma(w3, v128.load(r1 + o, 16), a1);
        a0 = fma(w4, v128.load(r1 + o, 4), a0); a1 = fma(w4, v128.load(r1 + o, 20), a1);
        a0 = fma(w5, v128.load(r1 + o, 8), a0); a1 = fma(w5, v128.load(r1 + o, 24), a1);
        a0 = fma(w6, v128.load(r2 + o), a0); a1 = fma(w6, v128.load(r2 + o, 16), a1);
        a0 = fma(w7, v128.load(r2 + o, 4), a0); a1 = fma(w7, v128.load(r2 + o, 20), a1);
        a0 = fma(w8, v128.load(r2 + o, 8), a0); a1 = fma(w8, v128.load(r2 + o, 24), a1);
      } else {
        const o = <usize>ow * 8;
        a0 = fma(w0, evens(r0 + o), a0); a1 = fma(w0, evens(r0 + o + 32), a1);
        a0 = fma(w1, odds(r0 + o), a0); a1 = fma(w1, odds(r0 + o + 32), a1);
        a0 = fma(w2, evens(r0 + o + 8), a0); a1 = fma(w2, evens(r0 + o + 40), a1);
        a0 = fma(w3, evens(r1 + o), a0); a1 = fma(w3, evens(r1 + o + 32), a1);
        a0 = fma(w4, odds(r1 + o), a0); a1 = fma(w4, odds(r1 + o + 32), a1);
        a0 = fma(w5, evens(r1 + o + 8), a0); a1 = fma(w5, evens(r1 + o + 40), a1);
        a0 = fma(w6, evens(r2 + o), a0); a1 = fma(w6, evens(r2 + o + 32), a1);
        a0 = fma(w7, odds(r2 + o), a0); a1 = fma(w7, odds(r2 + o + 32), a1);
        a0 = fma(w8, evens(r2 + o + 8), a0); a1 = fma(w8, evens(r2 + o + 40), a1);
      }
      const left = OW - ow;
      const p = row + <usize>ow * 4;
      if (left >= 8) {
        v128.store(p, a0);
        v128.store(p, a1, 16);
      } else if (left >= 4) {
        v128.store(p, a0);
        storeLanes(p + 16, a1, left - 4);
      } else {
        storeLanes(p, a0, left);
      }
    }
  }
  return OW;
}

/** out plane [OH, OW] of output channel with weights wo [KH, KW] (bias b) over the padded plane xp. */
function forwardPlane(xp: usize, wo: usize, b: f32, out: usize): void {
  const bias = f32x4.splat(b);
  const step = <usize>SW * 16;
  // The common 3×3 window: its vector body here, the tail columns below.
  const start = KH == 3 && KW == 3 && DH == 1 && DW == 1 && (SW == 1 || SW == 2) ? forward3x3Body(xp, wo, bias, out) : 0;
  for (let oh = 0; oh < OH; oh++) {
    const row = out + <usize>(oh * OW) * 4;
    const top = xp + <usize>(oh * SH * PIW) * 4;
    let ow = start;
    for (; ow + 8 <= OW; ow += 8) {
      let a0 = bias;
      let a1 = bias;
      for (let kh = 0; kh < KH; kh++) {
        const r = top + <usize>((kh * DH) * PIW + ow * SW) * 4;
        for (let kw = 0; kw < KW; kw++) {
          const wv = v128.load32_splat(wo + <usize>(kh * KW + kw) * 4);
          const p = r + <usize>(kw * DW) * 4;
          if (SW == 1) {
            a0 = fma(wv, v128.load(p), a0);
            a1 = fma(wv, v128.load(p, 16), a1);
          } else if (SW == 2) {
            a0 = fma(wv, evens(p), a0);
            a1 = fma(wv, evens(p + step), a1);
          } else {
            a0 = fma(wv, f32x4(load<f32>(p), load<f32>(p + <usize>SW * 4), load<f32>(p + <usize>SW * 8), load<f32>(p + <usize>SW * 12)), a0);
            const q = p + step;
            a1 = fma(wv, f32x4(load<f32>(q), load<f32>(q + <usize>SW * 4), load<f32>(q + <usize>SW * 8), load<f32>(q + <usize>SW * 12)), a1);
          }
        }
      }
      v128.store(row + <usize>ow * 4, a0);
      v128.store(row + <usize>ow * 4, a1, 16);
    }
    // The tail, one output at a time, in the same tap order (and with the same fused or
    // separate multiply-add as the vector lanes, so a value does not depend on its column).
    for (; ow < OW; ow++) {
      let a = bias;
      for (let kh = 0; kh < KH; kh++) {
        const r = top + <usize>((kh * DH) * PIW + ow * SW) * 4;
        for (let kw = 0; kw < KW; kw++) {
          a = fma(v128.load32_splat(wo + <usize>(kh * KW + kw) * 4), v128.load32_splat(r + <usize>(kw * DW) * 4), a);
        }
      }
      store<f32>(row + <usize>ow * 4, f32x4.extract_lane(a, 0));
    }
  }
}

/** dxp [PIH, PIW] += the windows of output channel (weights wo) weighted by dy plane [OH, OW]. */
function backwardInputPlane(dy: usize, wo: usize, dxp: usize): void {
  for (let oh = 0; oh < OH; oh++) {
    const g = dy + <usize>(oh * OW) * 4;
    const top = dxp + <usize>(oh * SH * PIW) * 4;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const wv = v128.load32_splat(wo + <usize>(kh * KW + kw) * 4);
        const d = top + <usize>((kh * DH) * PIW + kw * DW) * 4;
        let ow = 0;
        if (SW == 1) {
          for (; ow + 4 <= OW; ow += 4) {
            const p = d + <usize>ow * 4;
            v128.store(p, fma(wv, v128.load(g + <usize>ow * 4), v128.load(p)));
          }
        }
        for (; ow < OW; ow++) {
          const p = d + <usize>(ow * SW) * 4;
          const v = fma(wv, v128.load32_splat(g + <usize>ow * 4), v128.load32_splat(p));
          store<f32>(p, f32x4.extract_lane(v, 0));
        }
      }
    }
  }
}

/** dw [KH, KW] of one output channel += Σ dy plane · window of the padded plane xp, per tap. */
function backwardWeightPlane(xp: usize, dy: usize, dwo: usize): void {
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      let acc = f32x4.splat(0);
      let tail = f32x4.splat(0);
      for (let oh = 0; oh < OH; oh++) {
        const g = dy + <usize>(oh * OW) * 4;
        const r = xp + <usize>((oh * SH + kh * DH) * PIW + kw * DW) * 4;
        let ow = 0;
        for (; ow + 4 <= OW; ow += 4) {
          const p = r + <usize>(ow * SW) * 4;
          const xv = SW == 1 ? v128.load(p) : SW == 2 ? evens(p)
            : f32x4(load<f32>(p), load<f32>(p + <usize>SW * 4), load<f32>(p + <usize>SW * 8), load<f32>(p + <usize>SW * 12));
          acc = fma(v128.load(g + <usize>ow * 4), xv, acc);
        }
        for (; ow < OW; ow++) {
          tail = fma(v128.load32_splat(g + <usize>ow * 4), v128.load32_splat(r + <usize>(ow * SW) * 4), tail);
        }
      }
      const s = ((f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3)))
        + f32x4.extract_lane(tail, 0);
      const o = dwo + <usize>(kh * KW + kw) * 4;
      store<f32>(o, load<f32>(o) + s);
    }
  }
}

/**
 * Thread `tid`'s share of the depthwise task at `desc` (i32 words): 0 mode (0 forward, 1 input
 * gradient, 2 weight gradient), 1 N, 2 C (input channels = groups), 3 mult (output channels per
 * input channel), 4–5 input size, 6–7 kernel, 8–9 stride, 10–11 padding before, 12–13 dilation,
 * 14–15 output size, 16–17 the padded extent the windows reach, 18 x, 19 w [C·mult, KH, KW],
 * 20 bias (0: none), 21 result (out, dx or dw; accumulated into for modes 1 and 2), 22 dy,
 * 23 per-thread buffers, 24 bytes per thread's buffer (one padded plane), 25 clamp the
 * forward's output (0: no), 26–27 its bounds as f32 (a fused ReLU/ReLU6, after the bias and sum).
 */
export function depthwiseTask(desc: usize, tid: i32, threads: i32): void {
  const mode = load<i32>(desc);
  N = load<i32>(desc, 4); C = load<i32>(desc, 8); MULT = load<i32>(desc, 12);
  IH = load<i32>(desc, 16); IW = load<i32>(desc, 20); KH = load<i32>(desc, 24); KW = load<i32>(desc, 28);
  SH = load<i32>(desc, 32); SW = load<i32>(desc, 36); PH = load<i32>(desc, 40); PW = load<i32>(desc, 44);
  DH = load<i32>(desc, 48); DW = load<i32>(desc, 52); OH = load<i32>(desc, 56); OW = load<i32>(desc, 60);
  PIH = load<i32>(desc, 64); PIW = load<i32>(desc, 68);
  const x = <usize>load<i32>(desc, 72);
  const w = <usize>load<i32>(desc, 76);
  const bias = <usize>load<i32>(desc, 80);
  const res = <usize>load<i32>(desc, 84);
  const dy = <usize>load<i32>(desc, 88);
  const buf = <usize>load<i32>(desc, 92) + <usize>tid * <usize>load<i32>(desc, 96);
  const clamp = mode == 0 && load<i32>(desc, 100) != 0;
  const lo = load<f32>(desc, 104);
  const hi = load<f32>(desc, 108);
  const inPlane = IH * IW;
  const outPlane = OH * OW;
  const K = KH * KW;
  const COUT = C * MULT;
  if (mode == 2) {
    // By input channel: every weight's sum over the batch runs in batch order on one thread.
    for (let c = tid; c < C; c += threads) {
      for (let n = 0; n < N; n++) {
        padPlane(x + <usize>((n * C + c) * inPlane) * 4, buf);
        for (let m = 0; m < MULT; m++) {
          const o = c * MULT + m;
          backwardWeightPlane(buf, dy + <usize>((n * COUT + o) * outPlane) * 4, res + <usize>(o * K) * 4);
        }
      }
    }
    return;
  }
  for (let u = tid; u < N * C; u += threads) {
    const n = u / C;
    const c = u % C;
    if (mode == 0) {
      padPlane(x + <usize>(u * inPlane) * 4, buf);
      for (let m = 0; m < MULT; m++) {
        const o = c * MULT + m;
        const b: f32 = bias ? load<f32>(bias + <usize>o * 4) : 0;
        const y = res + <usize>((n * COUT + o) * outPlane) * 4;
        forwardPlane(buf, w + <usize>(o * K) * 4, b, y);
        if (clamp) clampF32(y, y, outPlane, lo, hi); // in place while the plane is in cache
      }
    } else {
      memory.fill(buf, 0, <usize>paddedFloats() * 4);
      for (let m = 0; m < MULT; m++) {
        const o = c * MULT + m;
        backwardInputPlane(dy + <usize>((n * COUT + o) * outPlane) * 4, w + <usize>(o * K) * 4, buf);
      }
      // dx += the interior of the padded gradient (rows/columns the windows never reach get nothing).
      const dx = res + <usize>(u * inPlane) * 4;
      const h = min(IH, PIH - PH);
      const wd = min(IW, PIW - PW);
      for (let ih = 0; ih < h; ih++) {
        const d = dx + <usize>(ih * IW) * 4;
        const s = buf + <usize>((ih + PH) * PIW + PW) * 4;
        let iw = 0;
        for (; iw + 4 <= wd; iw += 4) v128.store(d + <usize>iw * 4, f32x4.add(v128.load(d + <usize>iw * 4), v128.load(s + <usize>iw * 4)));
        for (; iw < wd; iw++) store<f32>(d + <usize>iw * 4, load<f32>(d + <usize>iw * 4) + load<f32>(s + <usize>iw * 4));
      }
    }
  }
}
