// Convolution for Kiln's wasm backend: per batch item, the input is unfolded (im2col) into a
// per-thread column buffer that stays in cache, and multiplied by the weights with the packed
// GEMM of gemm.ts; the input gradient multiplies by Wᵀ and folds back (col2im); the weight
// gradient multiplies dY by the columns transposed, summed over the batch.
//
// Geometry is always 3-D: 1-D and 2-D convolutions arrive padded with unit dims. Batch items
// are split between threads for the forward and input-gradient passes (a pointwise forward
// with fewer items than threads splits the output columns instead); the weight gradient,
// a sum over the batch, is split by kernel tap (dW's columns) instead, so each thread unfolds
// only the rows it needs and every weight's sum runs in the same order whatever the thread count.
import { sgemm } from './gemm';
import { clampF32 } from './elementwise';
import { directBackwardWeight, directForward } from './conv-direct';
import { lanesCorrelate, lanesWeight } from './conv-lanes';
import { winogradTask } from './winograd';

let N: i32, C: i32, COUT: i32, GROUPS: i32;
let ID: i32, IH: i32, IW: i32;
let KD: i32, KH: i32, KW: i32;
let SD: i32, SH: i32, SW: i32;
let PD: i32, PH: i32, PW: i32;
let DD: i32, DH: i32, DW: i32;
let OD: i32, OH: i32, OW: i32;

function loadGeometry(desc: usize): void {
  N = load<i32>(desc, 4); C = load<i32>(desc, 8); COUT = load<i32>(desc, 12); GROUPS = load<i32>(desc, 16);
  ID = load<i32>(desc, 20); IH = load<i32>(desc, 24); IW = load<i32>(desc, 28);
  KD = load<i32>(desc, 32); KH = load<i32>(desc, 36); KW = load<i32>(desc, 40);
  SD = load<i32>(desc, 44); SH = load<i32>(desc, 48); SW = load<i32>(desc, 52);
  PD = load<i32>(desc, 56); PH = load<i32>(desc, 60); PW = load<i32>(desc, 64);
  DD = load<i32>(desc, 68); DH = load<i32>(desc, 72); DW = load<i32>(desc, 76);
  OD = load<i32>(desc, 80); OH = load<i32>(desc, 84); OW = load<i32>(desc, 88);
}

/** First output index o ≥ 0 with o·s − p + tap ≥ 0. */
@inline function firstValid(p: i32, tap: i32, s: i32): i32 {
  const need = p - tap;
  return need <= 0 ? 0 : (need + s - 1) / s;
}

/** One past the last output index o with o·s − p + tap ≤ size − 1, clamped to [lo, out]. */
@inline function lastValid(size: i32, p: i32, tap: i32, s: i32, lo: i32, out: i32): i32 {
  const room = size - 1 + p - tap;
  const hi = room < 0 ? 0 : room / s + 1;
  return max(lo, min(hi, out));
}

/** dst[0, n) = src[0, n) for short runs (a window row), where memory.copy's call costs more than the copy. */
@inline function copyRun(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + <usize>i * 4, v128.load(src + <usize>i * 4));
  for (; i < n; i++) store<f32>(dst + <usize>i * 4, load<f32>(src + <usize>i * 4));
}

@inline function zeroRun(dst: usize, n: i32): void {
  let i = 0;
  const z = f32x4.splat(0);
  for (; i + 4 <= n; i += 4) v128.store(dst + <usize>i * 4, z);
  for (; i < n; i++) store<f32>(dst + <usize>i * 4, 0);
}

/** Output clamp (words 42–44): a ReLU/ReLU6 fused into the forward pass, applied after the bias and the sum. */
let CLAMP = false;
let LO: f32 = 0, HI: f32 = 0;

/** rows × [c0, c1) of y (row stride `stride` floats) clamped into [LO, HI] in place (clampF32's comparisons, NaN kept). */
function clampRows(y: usize, rows: i32, stride: i32, c0: i32, c1: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = y + <usize>(r * stride + c0) * 4;
    clampF32(row, row, c1 - c0, LO, HI);
  }
}

/** Extent of the (padded) input the windows read: exactly what the output positions reach. */
let PID: i32, PIH: i32, PIW: i32;

/**
 * xp [C, PID, PIH, PIW] = x with PD/PH/PW zeros before and whatever the windows reach past the
 * end, so im2col can copy window rows without a bounds check.
 */
function padInput(x: usize, xp: usize): void {
  memory.fill(xp, 0, <usize>(C * PID * PIH * PIW) * 4);
  const h = min(IH, PIH - PH);
  const w = min(IW, PIW - PW);
  for (let c = 0; c < C; c++) {
    for (let id = 0; id < min(ID, PID - PD); id++) {
      for (let ih = 0; ih < h; ih++) {
        copyRun(xp + <usize>(((c * PID + id + PD) * PIH + ih + PH) * PIW + PW) * 4,
          x + <usize>(((c * ID + id) * IH + ih) * IW) * 4, w);
      }
    }
  }
}

/**
 * Rows [p0, p1) of cols [C·K, L] (row p = channel p / K, tap p % K) from the padded input xp
 * [C, PID, PIH, PIW], row p − p0 at dst + 4·(p − p0)·stride (stride ≥ L; several items' columns
 * can sit side by side): every window lies inside xp.
 */
function im2col(xp: usize, p0: i32, p1: i32, dst: usize, stride: i32): void {
  const K = KD * KH * KW;
  // (channel, tap) of row p0, then carried from row to row (no divisions per row).
  let c = p0 / K;
  const r0 = p0 % K;
  let kd = r0 / (KH * KW);
  let kh = (r0 / KW) % KH;
  let kw = r0 % KW;
  for (let p = p0; p < p1; p++) {
    const plane = xp + <usize>(c * PID * PIH * PIW + kw * DW) * 4;
    let d = dst + <usize>(p - p0) * <usize>stride * 4;
    for (let od = 0; od < OD; od++) {
      const id = od * SD + kd * DD;
      for (let oh = 0; oh < OH; oh++) {
        const row = plane + <usize>((id * PIH + oh * SH + kh * DH) * PIW) * 4;
        if (SW == 1) {
          copyRun(d, row, OW);
        } else {
          for (let ow = 0; ow < OW; ow++) store<f32>(d + <usize>ow * 4, load<f32>(row + <usize>(ow * SW) * 4));
        }
        d += <usize>OW * 4;
      }
    }
    if (++kw == KW) {
      kw = 0;
      if (++kh == KH) {
        kh = 0;
        if (++kd == KD) {
          kd = 0;
          c++;
        }
      }
    }
  }
}

/**
 * The adjoint of im2col: x [C, ID, IH, IW] += cols [C·K, L] (row p at cols + 4·p·stride) folded
 * back onto the input, for channels [c0, c1) (cols then starts at row c0·K).
 */
function col2im(cols: usize, x: usize, stride: i32, c0: i32 = 0, c1: i32 = C): void {
  let p = 0;
  for (let c = c0; c < c1; c++) {
    const plane = x + <usize>(c * ID * IH * IW) * 4;
    for (let kd = 0; kd < KD; kd++) {
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const tapW = kw * DW;
          let src = cols + <usize>p * <usize>stride * 4;
          p++;
          const lo = min(firstValid(PW, tapW, SW), OW);
          const hi = lastValid(IW, PW, tapW, SW, lo, OW);
          for (let od = 0; od < OD; od++) {
            const id = od * SD - PD + kd * DD;
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * SH - PH + kh * DH;
              if (id >= 0 && id < ID && ih >= 0 && ih < IH) {
                const row = plane + <usize>((id * IH + ih) * IW) * 4;
                if (SW == 1) {
                  const base = row + <usize>(lo - PW + tapW) * 4;
                  let ow = lo;
                  for (; ow + 4 <= hi; ow += 4) {
                    const d = base + <usize>(ow - lo) * 4;
                    v128.store(d, f32x4.add(v128.load(d), v128.load(src + <usize>ow * 4)));
                  }
                  for (; ow < hi; ow++) {
                    const d = base + <usize>(ow - lo) * 4;
                    store<f32>(d, load<f32>(d) + load<f32>(src + <usize>ow * 4));
                  }
                } else {
                  for (let ow = lo; ow < hi; ow++) {
                    const d = row + <usize>(ow * SW - PW + tapW) * 4;
                    store<f32>(d, load<f32>(d) + load<f32>(src + <usize>ow * 4));
                  }
                }
              }
              src += <usize>OW * 4;
            }
          }
        }
      }
    }
  }
}

/**
 * Thread `tid`'s share of the convolution task at `desc` (i32 words): 0 mode (0 forward,
 * 1 input gradient, 2 weight gradient; 3–5 Winograd phases, see winograd.ts), 1 N, 2 C, 3 cOut, 4 groups, 5–7 input size, 8–10 kernel,
 * 11–13 stride, 14–16 padding before, 17–19 dilation, 20–22 output size, 23 first operand (x, or
 * dy for mode 1), 24 second operand (w, or dy for mode 2), 25 result (out, dx or dw), 26 column
 * buffers, 27 bytes per thread's column buffer, 28 GEMM scratch, 29 bytes per thread's GEMM
 * scratch, 30 pointwise (1×1 kernel, unit stride, no padding: the input is its own columns),
 * 31 bias (forward: each output channel starts from its bias, the GEMM adds on; weight gradient:
 * the bias gradient, added to; 0 for none),
 * 32 padded (the windows reach outside the input: im2col reads a zero-padded copy), 33–35 the
 * extent the windows read (the input size when not padded), 36 padded-copy buffers, 37 bytes per
 * thread's padded copy, 38 items per GEMM (S > 1: small outputs, groups = 1 — see batchedTask),
 * 39 output-row buffers (S items' [cOut, S·L]), 40 bytes per thread's output-row buffer,
 * 41 direct kernels for 2-D convolutions with few channels, unit width stride, no dilation,
 * groups = 1 (0: none; 1: one item at a time, forward and weight gradient, conv-direct.ts — the
 * column buffers then hold one padded input plane and the per-tap sums; 2: four items in the
 * lanes, all three passes, conv-lanes.ts — the column buffers hold its per-share planes),
 * 42 clamp the forward's output (0: no), 43–44 its bounds as f32, 45 the lane sums of
 * conv-lanes.ts's weight gradient, 46 its chunk flags (1: first chunk, 2: last; 4: the weight
 * gradient overwrites dW rather than adding to it — the GEMM and direct paths, not the lanes), 47 the call's
 * serial number (conv-lanes.ts). `thread` is the thread running the share (0 the caller).
 */
export function convTask(desc: usize, tid: i32, threads: i32, thread: i32): void {
  const mode = load<i32>(desc);
  // Modes 3–5: the phases of a Winograd F(2×2, 3×3) convolution, with their own descriptor (winograd.ts).
  if (mode >= 3) {
    winogradTask(desc, tid, threads, thread);
    return;
  }
  loadGeometry(desc);
  const p0 = <usize>load<i32>(desc, 92);
  const p1 = <usize>load<i32>(desc, 96);
  const res = <usize>load<i32>(desc, 100);
  const cols = <usize>load<i32>(desc, 104) + <usize>tid * <usize>load<i32>(desc, 108);
  const gs = <usize>load<i32>(desc, 112) + <usize>tid * <usize>load<i32>(desc, 116);
  const pointwise = load<i32>(desc, 120) != 0;
  const bias = <usize>load<i32>(desc, 124);
  const padded = load<i32>(desc, 128) != 0;
  PID = load<i32>(desc, 132); PIH = load<i32>(desc, 136); PIW = load<i32>(desc, 140);
  const xpad = <usize>load<i32>(desc, 144) + <usize>tid * <usize>load<i32>(desc, 148);
  const K = KD * KH * KW;
  const L = OD * OH * OW;
  const inPlane = ID * IH * IW;
  const cInG = C / GROUPS;
  const cOutG = COUT / GROUPS;
  const kg = cInG * K; // GEMM depth (forward) / rows (input gradient) per group
  const S = load<i32>(desc, 152);
  CLAMP = mode == 0 && load<i32>(desc, 168) != 0;
  LO = load<f32>(desc, 172);
  HI = load<f32>(desc, 176);
  // Mode 2 with a bias gradient (word 31): each share sums dy over its range of channels, each
  // channel in one fixed order (so any split gives the same bits), beside its part of dW.
  if (mode == 2 && bias) biasGradient(p1, bias, L, tid * COUT / threads, (tid + 1) * COUT / threads);
  const direct = load<i32>(desc, 164);
  if (direct == 2) {
    // Few channels, four items per vector (word 41): conv-lanes.ts, no im2col. The forward and
    // input gradient run one share per group of items, on the running thread's buffer (word 47:
    // the call's serial number, so each thread packs the weights once per call).
    const buf = <usize>load<i32>(desc, 104) + <usize>thread * <usize>load<i32>(desc, 108);
    const serial = load<i32>(desc, 188);
    if (mode == 0) {
      lanesCorrelate(p0, p1, bias, res, N, C, IH, IW, COUT, KH, KW, SH, PH, PW, (OH - 1) * SH + KH, OW + KW - 1, OH, OW,
        false, CLAMP, LO, HI, buf, serial, tid, threads);
    } else if (mode == 1) {
      // The adjoint: dy padded by the kernel's reach, correlated with the flipped kernel.
      lanesCorrelate(p0, p1, 0, res, N, COUT, OH, OW, C, KH, KW, 1, KH - 1 - PH, KW - 1 - PW, IH + KH - 1, IW + KW - 1, IH, IW,
        true, false, 0, 0, buf, serial, tid, threads);
    } else {
      const flags = load<i32>(desc, 184);
      lanesWeight(p0, p1, res, N, C, IH, IW, COUT, KH, KW, SH, PH, PW, (OH - 1) * SH + KH, OW + KW - 1, OH, OW,
        (flags & 1) != 0, (flags & 2) != 0, <usize>load<i32>(desc, 180), cols, tid, threads);
    }
    return;
  }
  if (direct != 0) {
    // Few output channels, one item at a time (word 41): conv-direct.ts, no im2col.
    if (mode == 0) {
      for (let t = tid; t < N; t += threads) {
        const xt = p0 + <usize>(t * C * inPlane) * 4;
        if (padded) padInput(xt, xpad);
        directForward(padded ? xpad : xt, p1, bias, res + <usize>(t * COUT * L) * 4, C, COUT, KH, KW, SH, PIH, PIW, OH, OW);
        if (CLAMP) clampRows(res + <usize>(t * COUT * L) * 4, COUT, L, 0, L);
      }
    } else {
      const sums = cols + <usize>(PIH * PIW + 16) * 4;
      const overwrite = (load<i32>(desc, 184) & 4) != 0;
      directBackwardWeight(p0, p1, res, N, C, COUT, IH, IW, KH, KW, SH, PH, PW, PIH, PIW, OH, OW, cols, sums, overwrite, tid, threads);
    }
    return;
  }
  if (S > 1) {
    const ybuf = <usize>load<i32>(desc, 156) + <usize>tid * <usize>load<i32>(desc, 160);
    batchedTask(mode, tid, threads, S, p0, p1, res, cols, gs, padded ? xpad : 0, ybuf, bias, (load<i32>(desc, 184) & 4) != 0);
    return;
  }
  // The forward and input gradient below split items, and may run more shares than threads
  // (a late thread then holds up a few items, not half the batch): their buffers go by the
  // running thread, not by the share.
  const colsT = <usize>load<i32>(desc, 104) + <usize>thread * <usize>load<i32>(desc, 108);
  const gsT = <usize>load<i32>(desc, 112) + <usize>thread * <usize>load<i32>(desc, 116);
  const xpadT = <usize>load<i32>(desc, 144) + <usize>thread * <usize>load<i32>(desc, 148);
  if (mode == 0 && pointwise && N < threads) {
    // Fewer items than threads (batch-1 inference): each thread takes whole 8-column tiles of
    // every item's output; a column's sum runs as it would on one thread.
    const chunk = ((L + threads * 8 - 1) / (threads * 8)) * 8;
    const j0 = tid * chunk;
    const j1 = min(L, j0 + chunk);
    if (j0 >= j1) return;
    for (let t = 0; t < N; t++) {
      const xt = p0 + <usize>(t * C * inPlane) * 4;
      const yt = res + <usize>(t * COUT * L) * 4;
      if (bias) {
        for (let c = 0; c < COUT; c++) {
          const b = load<f32>(bias + <usize>c * 4);
          for (let l = j0; l < j1; l++) store<f32>(yt + <usize>(c * L + l) * 4, b);
        }
      }
      for (let g = 0; g < GROUPS; g++) {
        sgemm(cOutG, j1 - j0, kg, p1 + <usize>(g * cOutG * kg) * 4, kg, 1, xt + <usize>(g * kg * L + j0) * 4, L, 1,
          yt + <usize>(g * cOutG * L + j0) * 4, L, bias != 0, gsT);
      }
      if (CLAMP) clampRows(yt, COUT, L, j0, j1);
    }
  } else if (mode == 0) {
    for (let t = tid; t < N; t += threads) {
      const xt = p0 + <usize>(t * C * inPlane) * 4;
      const ct = pointwise ? xt : colsT;
      if (!pointwise) {
        if (padded) padInput(xt, xpadT);
        im2col(padded ? xpadT : xt, 0, C * K, ct, L);
      }
      const yt = res + <usize>(t * COUT * L) * 4;
      if (bias) {
        for (let c = 0; c < COUT; c++) {
          const v = f32x4.splat(load<f32>(bias + <usize>c * 4));
          const row = yt + <usize>(c * L) * 4;
          let l = 0;
          for (; l + 4 <= L; l += 4) v128.store(row + <usize>l * 4, v);
          for (; l < L; l++) store<f32>(row + <usize>l * 4, load<f32>(bias + <usize>c * 4));
        }
      }
      for (let g = 0; g < GROUPS; g++) {
        sgemm(cOutG, L, kg, p1 + <usize>(g * cOutG * kg) * 4, kg, 1, ct + <usize>(g * kg * L) * 4, L, 1,
          yt + <usize>(g * cOutG * L) * 4, L, bias != 0, gsT);
      }
      if (CLAMP) clampRows(yt, COUT, L, 0, L);
    }
  } else if (mode == 1) {
    for (let t = tid; t < N; t += threads) {
      const dyt = p0 + <usize>(t * COUT * L) * 4;
      const dxt = res + <usize>(t * C * inPlane) * 4;
      for (let g = 0; g < GROUPS; g++) {
        // (Wᵀ)_g: element (i, p) = w[(g·cOutG + p)·kg + i].
        const wg = p1 + <usize>(g * cOutG * kg) * 4;
        const dyg = dyt + <usize>(g * cOutG * L) * 4;
        if (pointwise) sgemm(kg, L, cOutG, wg, 1, kg, dyg, L, 1, dxt + <usize>(g * kg * L) * 4, L, true, gsT);
        else sgemm(kg, L, cOutG, wg, 1, kg, dyg, L, 1, colsT + <usize>(g * kg * L) * 4, L, false, gsT);
      }
      if (!pointwise) col2im(colsT, dxt, L);
    }
  } else {
    // Split dW's columns (the taps of each group) in whole tiles: each thread unfolds only the
    // cols rows its columns need, and every weight's sum over the batch runs in the same order.
    // Word 46 bit 4: the first item's GEMM stores into dW instead of adding (the GEMM's sums
    // start from +0 and are never −0, so the bits are those of adding to a zeroed dW).
    const overwrite = (load<i32>(desc, 184) & 4) != 0;
    const chunk = ((kg + threads * 8 - 1) / (threads * 8)) * 8;
    const j0 = tid * chunk;
    const j1 = min(kg, j0 + chunk);
    if (j0 >= j1) return;
    for (let t = 0; t < N; t++) {
      const xt = p0 + <usize>(t * C * inPlane) * 4;
      const dyt = p1 + <usize>(t * COUT * L) * 4;
      if (!pointwise && padded) padInput(xt, xpad);
      for (let g = 0; g < GROUPS; g++) {
        // Rows j0…j1 of this group's columns: the input itself when pointwise.
        let rows = xt + <usize>((g * kg + j0) * L) * 4;
        if (!pointwise) {
          im2col(padded ? xpad : xt, g * kg + j0, g * kg + j1, cols, L);
          rows = cols;
        }
        // dW[group rows, j0…j1] += dY_g · rowsᵀ, rowsᵀ element (l, j) = rows[j·L + l].
        sgemm(cOutG, j1 - j0, L, dyt + <usize>(g * cOutG * L) * 4, L, 1, rows, 1, L,
          res + <usize>(g * cOutG * kg + j0) * 4, kg, !overwrite || t > 0, gs);
      }
    }
  }
}

/** dBias[o] += Σ over items and positions of dy [N, COUT, L] on channel o ∈ [o0, o1), summed in float64 (two pairs of lanes, then in lane order). */
function biasGradient(dy: usize, dBias: usize, L: i32, o0: i32, o1: i32): void {
  for (let o = o0; o < o1; o++) {
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    let tail: f64 = 0;
    for (let t = 0; t < N; t++) {
      const row = dy + <usize>((t * COUT + o) * L) * 4;
      let l = 0;
      for (; l + 4 <= L; l += 4) {
        const v = v128.load(row + <usize>l * 4);
        lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
        hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
      }
      for (; l < L; l++) tail += <f64>load<f32>(row + <usize>l * 4);
    }
    const s = ((f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1))) + tail;
    store<f32>(dBias + <usize>o * 4, <f32>(<f64>load<f32>(dBias + <usize>o * 4) + s));
  }
}

/** dst [COUT, S·L] (row stride w) ← rows of `sn` items of y [N, COUT, L] starting at item t0. */
function gatherRows(y: usize, t0: i32, sn: i32, L: i32, dst: usize, w: i32): void {
  for (let o = 0; o < COUT; o++) {
    for (let i = 0; i < sn; i++) copyRun(dst + <usize>(o * w + i * L) * 4, y + <usize>(((t0 + i) * COUT + o) * L) * 4, L);
  }
}

/**
 * Convolutions with small outputs (L below a few hundred), groups = 1: S items' columns sit side
 * by side, [C·K, S·L], so one GEMM covers S items and packs the weights once rather than once
 * per item (a per-item GEMM with L = 1..64 columns spends its time packing). The forward and
 * input-gradient passes give each thread a contiguous range of items; the weight gradient splits
 * dW's columns as the per-item path does, with S fixed by the shape, so every sum runs in the
 * same order whatever the thread count.
 */
function batchedTask(mode: i32, tid: i32, threads: i32, S: i32, p0: usize, p1: usize, res: usize,
  cols: usize, gs: usize, xpad: usize, ybuf: usize, bias: usize, overwrite: bool): void {
  const K = KD * KH * KW;
  const L = OD * OH * OW;
  const CK = C * K;
  const inPlane = ID * IH * IW;
  if (mode == 2) {
    const chunk = ((CK + threads * 8 - 1) / (threads * 8)) * 8;
    const j0 = tid * chunk;
    const j1 = min(CK, j0 + chunk);
    if (j0 >= j1) return;
    for (let s0 = 0; s0 < N; s0 += S) {
      const sn = min(S, N - s0);
      const w = sn * L;
      for (let i = 0; i < sn; i++) {
        const xt = p0 + <usize>((s0 + i) * C * inPlane) * 4;
        if (xpad) padInput(xt, xpad);
        im2col(xpad ? xpad : xt, j0, j1, cols + <usize>(i * L) * 4, w);
      }
      gatherRows(p1, s0, sn, L, ybuf, w);
      // dW[:, j0…j1] += dY' · colsᵀ, colsᵀ element (l, j) = cols[j·w + l] (the first group stores when `overwrite`).
      sgemm(COUT, j1 - j0, w, ybuf, w, 1, cols, 1, w, res + <usize>j0 * 4, CK, !overwrite || s0 > 0, gs);
    }
    return;
  }
  // The input gradient with Wᵀ taller than a group's columns (C·K > S·L) splits by input
  // channels instead of items: each share packs its rows of Wᵀ rather than every share all of
  // them (it gathers dY' and unfolds its channels itself). The forward keeps the item split:
  // a row split would run im2col for every item on every share, which costs more than packing
  // W twice where outputs are tiny (measured on ResNet-18's stride-2 layers).
  if (threads > 1 && mode == 1 && CK > S * L) {
    inputGradientRows(tid, threads, S, p0, p1, res, cols, gs, ybuf);
    return;
  }
  const per = (N + threads - 1) / threads;
  const t0 = tid * per;
  const t1 = min(N, t0 + per);
  for (let s0 = t0; s0 < t1; s0 += S) {
    const sn = min(S, t1 - s0);
    const w = sn * L;
    if (mode == 0) {
      for (let i = 0; i < sn; i++) {
        const xt = p0 + <usize>((s0 + i) * C * inPlane) * 4;
        if (xpad) padInput(xt, xpad);
        im2col(xpad ? xpad : xt, 0, CK, cols + <usize>(i * L) * 4, w);
      }
      if (bias) {
        for (let o = 0; o < COUT; o++) {
          const b = load<f32>(bias + <usize>o * 4);
          const row = ybuf + <usize>(o * w) * 4;
          for (let l = 0; l < w; l++) store<f32>(row + <usize>l * 4, b);
        }
      }
      sgemm(COUT, w, CK, p1, CK, 1, cols, w, 1, ybuf, w, bias != 0, gs);
      if (CLAMP) clampRows(ybuf, COUT, w, 0, w);
      for (let o = 0; o < COUT; o++) {
        for (let i = 0; i < sn; i++) copyRun(res + <usize>(((s0 + i) * COUT + o) * L) * 4, ybuf + <usize>(o * w + i * L) * 4, L);
      }
    } else {
      gatherRows(p0, s0, sn, L, ybuf, w);
      // cols = Wᵀ · dY', (Wᵀ) element (i, p) = w[p·CK + i].
      sgemm(CK, w, COUT, p1, 1, CK, ybuf, w, 1, cols, w, false, gs);
      for (let i = 0; i < sn; i++) col2im(cols + <usize>(i * L) * 4, res + <usize>((s0 + i) * C * inPlane) * 4, w);
    }
  }
}

/**
 * batchedTask's input gradient split by input channels instead of items: every share runs all
 * the S-groups over its channels' rows of Wᵀ and of the columns, and folds those back onto its
 * channels only. Each element's sum runs as in the item split, so the bits are the same.
 */
function inputGradientRows(tid: i32, threads: i32, S: i32, p0: usize, p1: usize, res: usize, cols: usize, gs: usize, ybuf: usize): void {
  const K = KD * KH * KW;
  const L = OD * OH * OW;
  const CK = C * K;
  const inPlane = ID * IH * IW;
  const c0 = <i32>((<i64>C * tid) / threads);
  const c1 = <i32>((<i64>C * (tid + 1)) / threads);
  if (c0 >= c1) return;
  for (let s0 = 0; s0 < N; s0 += S) {
    const sn = min(S, N - s0);
    const w = sn * L;
    gatherRows(p0, s0, sn, L, ybuf, w);
    // Rows [c0·K, c1·K) of cols = Wᵀ · dY', (Wᵀ) element (i, p) = w[p·CK + i].
    sgemm((c1 - c0) * K, w, COUT, p1 + <usize>(c0 * K) * 4, 1, CK, ybuf, w, 1, cols, w, false, gs);
    for (let i = 0; i < sn; i++) col2im(cols + <usize>(i * L) * 4, res + <usize>((s0 + i) * C * inPlane) * 4, w, c0, c1);
  }
}
