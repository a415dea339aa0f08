/**
 * Convolution kernels on Wasm: the operands (input, weights, output or gradients — small next
 * to the column buffers) are staged into Wasm memory, where each thread unfolds one batch item
 * at a time into its own cache-sized column buffer and runs the packed GEMM on it (see
 * assembly/conv.ts). Nothing of im2col's size crosses between JavaScript and Wasm.
 *
 * Kernel taps that only read padding (a 3×3 kernel over a 1×1 map) are cropped away first
 * (conv-taps.ts). 3×3 stride-1 convolutions with enough channels take Winograd F(2×2, 3×3)
 * for the forward pass and both gradients (winograd.ts). float64, more than 3 spatial
 * dims, or shapes whose single batch item does not fit the Wasm memory go to the reference
 * composition.
 */
import type { ConvClamp, Kernels, WindowGeometry } from '../../backend.js';
import { sizeOf } from '../../shape.js';
import { biasGradient, isPointwise } from '../reference/conv.js';
import { referenceKernels } from '../reference/index.js';
import { cropBuffer, cropDeadTaps, cropWeights, uncropWeights } from './conv-taps.js';
import { CACHE_CHUNK, DepthwiseMode, isDepthwise, runDepthwise } from './depthwise.js';
import { MAX_SHARES, type WorkerPool } from './pool.js';
import { align, DESC, operandCapacity, SCRATCH, type WasmRuntime } from './runtime.js';
import { isWinograd, runWinograd, runWinogradWeight } from './winograd.js';

type Float = Float32Array | Float64Array;
type ConvKernels = Pick<Kernels, 'convForward' | 'convBackwardInput' | 'convBackwardWeight'>;

/** Multiply-adds each extra thread must get before waking it pays off. */
const WORK_PER_THREAD = 1 << 17;
/** Shares per thread of the per-item forward and input gradient (buffers go by the running thread). */
const ITEM_SHARES_PER_THREAD = 4;
/** Outputs per item below which several items share one GEMM (groups = 1). */
const BATCH_BELOW = 128;
/** Columns of one shared GEMM: items per GEMM = ceil(BATCH_COLUMNS / L). */
const BATCH_COLUMNS = 256;

const enum Mode {
  Forward = 0,
  BackwardInput = 1,
  BackwardWeight = 2,
}

/** The geometry as 3-D (leading unit dims), or null when it has more than 3 spatial dims. */
function as3d(g: WindowGeometry): number[][] | null {
  const n = g.inSize.length;
  if (n < 1 || n > 3) return null;
  const pad = (v: number[], fill: number) => [...new Array<number>(3 - n).fill(fill), ...v];
  return [pad(g.inSize, 1), pad(g.kernel, 1), pad(g.stride, 1), pad(g.padBegin, 0), pad(g.dilation, 1), pad(g.outSize, 1)];
}

/** Output channels up to which a 2-D convolution takes the direct kernels (assembly/conv-direct.ts). */
const DIRECT_MAX_OUT = 8;

/**
 * True for the direct kernels: 2-D (as 3-D with a unit first dim), groups = 1, few output
 * channels, unit width stride, no dilation, rows of at least 8 outputs.
 */
function isDirect(geo: number[][], cOut: number, groups: number): boolean {
  const [, k, s, , d, o] = geo as [number[], number[], number[], number[], number[], number[]];
  return groups === 1 && cOut <= DIRECT_MAX_OUT && k[0] === 1 && o[0] === 1 && s[2] === 1 && d.every((v) => v === 1) && o[2]! >= 8;
}

/** Channels up to which (both ways) a 2-D convolution of several items takes the lanes kernels (assembly/conv-lanes.ts). */
const LANES_MAX_CHANNELS = 16;

/**
 * True for the lanes kernels (four items per vector): 2-D, groups = 1, at least 2 items, few
 * channels each way, unit width stride, no dilation; the input gradient also needs unit strides
 * and padding within the kernel's reach (its dy plane is padded by reach − padding).
 */
function isLanes(geo: number[][], mode: Mode, N: number, C: number, cOut: number, groups: number): boolean {
  const [, k, s, p, d, o] = geo as [number[], number[], number[], number[], number[], number[]];
  if (groups !== 1 || N < 2 || C > LANES_MAX_CHANNELS || cOut > LANES_MAX_CHANNELS || k[0] !== 1 || o[0] !== 1) return false;
  if (s[2] !== 1 || !d.every((v) => v === 1)) return false;
  return mode !== Mode.BackwardInput || (s[1] === 1 && p[1]! <= k[1]! - 1 && p[2]! <= k[2]! - 1);
}

/**
 * Bytes of one share's buffer for the lanes kernels (conv-lanes.ts's lanesCorrelateBytes and
 * lanesWeightBytes): the zero-padded plane of four items, then the packed weights and bias, or
 * the share's channels of dy. Also the lane sums the weight gradient keeps over its chunks.
 */
function lanesBytes(geo: number[][], mode: Mode, C: number, cOut: number): { perShare: number; sums: number } {
  const [i, k, s, , , o] = geo as [number[], number[], number[], number[], number[], number[]];
  const K = k[1]! * k[2]!;
  const round4 = (v: number) => Math.ceil(v / 4) * 4;
  const plane = (cin: number, ph: number, pw: number) => (cin * ph * pw + 8) * 16;
  if (mode === Mode.BackwardInput) {
    const perShare = plane(cOut, i[1]! + k[1]! - 1, i[2]! + k[2]! - 1) + (round4(C) * cOut * K + round4(C)) * 4 + 64;
    return { perShare: align(perShare, 64), sums: 0 };
  }
  const ph = (o[1]! - 1) * s[1]! + k[1]!;
  const pw = o[2]! + k[2]! - 1;
  if (mode === Mode.Forward) return { perShare: align(plane(C, ph, pw) + (round4(cOut) * C * K + round4(cOut)) * 4 + 64, 64), sums: 0 };
  return { perShare: align(plane(C, ph, pw) + cOut * o[1]! * o[2]! * 16 + 64, 64), sums: align(Math.ceil(cOut / 2) * 2 * round4(C * K) * 16, 64) };
}

export function makeConv(rt: WasmRuntime, pool: WorkerPool, threads: () => number): ConvKernels {
  /** Numbers the lanes kernels' calls (descriptor word 47): a thread packs the weights once per call. */
  let serial = 0;
  /**
   * Runs one mode over the whole batch, in chunks of items that fit the memory. `a` and `b` are
   * the two operands in the kernel's order, `res` the result (read in first where it accumulates).
   * The weight gradient adds to `res`, or with `overwrite` replaces it (what it held is never read).
   */
  const run = (mode: Mode, a: Float32Array, b: Float32Array, g: WindowGeometry, cOut: number, groups: number, res: Float32Array,
    bias: Float32Array | null = null, clamp: ConvClamp | null = null, overwrite = false): boolean => {
    const geo = as3d(g);
    if (!geo) return false;
    const N = g.batch;
    const C = g.channels;
    const K = sizeOf(g.kernel);
    const L = sizeOf(g.outSize);
    const inPlane = sizeOf(g.inSize);
    const cInG = C / groups;
    if (N === 0 || cOut === 0 || L === 0 || C === 0) return false; // nothing to multiply: the reference's loops
    if (isWinograd(geo, C, cOut, groups)) {
      const [i, , , p, , o] = geo as [number[], number[], number[], number[], number[], number[]];
      const shape = { N, Ci: C, Co: cOut, H: i[1]!, W: i[2]!, PH: p[1]!, PW: p[2]!, OH: o[1]!, OW: o[2]! };
      if (mode === Mode.BackwardWeight) {
        if (!runWinogradWeight(rt, pool, threads(), shape, a, b, res, overwrite)) return false;
        if (bias) biasGradient(b, N, cOut, L, bias);
        return true;
      }
      return mode === Mode.Forward
        ? runWinograd(rt, pool, threads(), shape, a, b, res, false, bias, clamp)
        : runWinograd(rt, pool, threads(), { N, Ci: cOut, Co: C, H: o[1]!, W: o[2]!, PH: 2 - p[1]!, PW: 2 - p[2]!, OH: i[1]!, OW: i[2]! }, a, b, res, true);
    }
    const pointwise = isPointwise(g);
    const xItem = C * inPlane;
    const yItem = cOut * L;
    const wSize = cOut * cInG * K;
    // Few channels: the lanes kernels, four items per vector (assembly/conv-lanes.ts); a single
    // item's forward and weight gradient with few output channels: the direct kernels (conv-direct.ts).
    // (Planes past CACHE_CHUNK, large maps, stay with im2col and GEMM, whose buffers are per item.)
    const lanes = isLanes(geo, mode, N, C, cOut, groups) && lanesBytes(geo, mode, C, cOut).perShare <= CACHE_CHUNK;
    const direct = !lanes && mode !== Mode.BackwardInput && isDirect(geo, cOut, groups);
    // Small outputs: S items share one GEMM (assembly/conv.ts, batchedTask), ~BATCH_COLUMNS columns.
    const S = !direct && !lanes && groups === 1 && L < BATCH_BELOW && N > 1 ? Math.min(N, Math.ceil(BATCH_COLUMNS / L)) : 1;
    // The direct kernels' buffers: one padded plane (+ slack) and 2·K per-tap sums.
    const directBytes = direct ? align(((geo[5]![1]! + geo[1]![1]! - 1) * (geo[5]![2]! + geo[1]![2]! - 1) * geo[2]![1]! + 16 + 2 * K) * 4 + 64, 64) : 0;
    const lanesLayout = lanes ? lanesBytes(geo, mode, C, cOut) : null;
    const colsPerThread = lanesLayout ? lanesLayout.perShare : direct ? directBytes : pointwise && S === 1 ? 0 : align(C * K * L * S * 4, 64);
    const rowsPerThread = S > 1 ? align(cOut * L * S * 4, 64) : 0;
    const sumsBytes = lanesLayout ? lanesLayout.sums : 0;
    // The extent the windows read; when it reaches outside the input, im2col reads a zero-padded copy.
    const reach = geo[5]!.map((o, i) => (o - 1) * geo[2]![i]! + (geo[1]![i]! - 1) * geo[4]![i]! + 1);
    const padded = !pointwise && !lanes && (geo[3]!.some((p) => p > 0) || reach.some((r, i) => r > geo[0]![i]!));
    const extent = padded ? reach : geo[0]!;
    const padPerThread = padded ? align(C * extent[0]! * extent[1]! * extent[2]! * 4, 64) : 0;
    const work = N * cOut * L * cInG * K;
    let t = Math.max(1, Math.min(threads(), Math.floor(work / WORK_PER_THREAD)));
    if (lanes) t = Math.min(t, mode === Mode.BackwardWeight ? Math.ceil(cOut / 2) * Math.ceil((C * K) / 4) : Math.ceil(N / 4));
    else if (mode === Mode.BackwardWeight) t = Math.min(t, direct ? Math.ceil(cOut / 2) * C : Math.ceil((cInG * K) / 8));
    // A pointwise forward with fewer items than threads splits the output columns instead (assembly/conv.ts).
    else if (mode === Mode.Forward && pointwise && !direct && S === 1 && N < t) t = Math.min(t, Math.ceil(L / 8));
    else t = Math.min(t, N);
    // Bytes: weights (or dw) once, column buffers per thread, then x and y per item.
    const fixed = wSize * 4 + cOut * 4 + (colsPerThread + padPerThread + rowsPerThread) * t + sumsBytes + 576;
    const perItem = (xItem + yItem) * 4;
    const room = operandCapacity(rt) - fixed;
    if (room < perItem) return false;
    // Forward: chunks of about CACHE_CHUNK bytes of operands, whole S-groups, so what is copied
    // in is still in cache when the kernel reads it, and the result when it is copied out.
    // (At least one item per thread, as the forward splits a chunk's items between threads.)
    const cap = mode === Mode.Forward ? Math.max(S * t, Math.floor(CACHE_CHUNK / perItem / S) * S) : N;
    let chunk = Math.max(1, Math.min(N, cap, Math.floor(room / perItem)));
    // The lanes kernels take whole groups of four items (the weight gradient's lane sums run over
    // items 4g + lane, whatever the chunks), and at least one group per thread.
    if (lanes && chunk < N) chunk = Math.max(4, Math.floor(Math.max(chunk, mode === Mode.Forward ? 4 * t : 4) / 4) * 4);
    if (lanes && chunk * perItem > room) return false;
    // The GEMM and direct weight gradients store their first chunk's sums into dW (word 46 bit 4);
    // the lanes kernels add their lane sums to it, so for them an overwritten dW starts from zero.
    const storeFirst = overwrite && !lanes;
    if (overwrite && lanes) res.fill(0);
    // Weights and bias an optimizer keeps in the Wasm memory (resident parameters) are read in
    // place. The others are staged once, before the first chunk (their place does not move).
    const wIn = mode === Mode.BackwardWeight ? -1 : rt.residentPtr(b);
    // A weight gradient that is a resident gradient slot is written in place.
    const dwIn = mode === Mode.BackwardWeight ? rt.residentPtr(res) : -1;
    const biasIn = mode === Mode.Forward && bias ? rt.residentPtr(bias) : -1;
    // x, y, dy and dx already in the Wasm memory (the backward pass keeps dy and dx there) are
    // read and written in place instead of staged and copied back.
    const xRes = rt.residentPtr(mode === Mode.BackwardInput ? res : a);
    const yRes = rt.residentPtr(mode === Mode.Forward ? res : mode === Mode.BackwardInput ? a : b);
    for (let n0 = 0; n0 < N; n0 += chunk) {
      const first = n0 === 0;
      const last = n0 + chunk >= N;
      const nb = Math.min(chunk, N - n0);
      const wPtr = rt.operandBase;
      const biasPtr = align(wPtr + wSize * 4, 64);
      const colsPtr = align(biasPtr + cOut * 4, 64);
      const padPtr = align(colsPtr + colsPerThread * t, 64);
      const rowsPtr = align(padPtr + padPerThread * t, 64);
      const sumsPtr = align(rowsPtr + rowsPerThread * t, 64);
      const xStaged = align(sumsPtr + sumsBytes, 64);
      const yStaged = align(xStaged + nb * xItem * 4, 64);
      rt.ensure(yStaged + nb * yItem * 4);
      const xPtr = xRes >= 0 ? xRes + n0 * xItem * 4 : xStaged;
      const yPtr = yRes >= 0 ? yRes + n0 * yItem * 4 : yStaged;
      const f32 = rt.f32;
      const xs = (arr: Float32Array) => arr.subarray(n0 * xItem, (n0 + nb) * xItem);
      const ys = (arr: Float32Array) => arr.subarray(n0 * yItem, (n0 + nb) * yItem);
      let p0: number;
      let p1: number;
      let out: number;
      if (mode === Mode.Forward) {
        if (xRes < 0) f32.set(xs(a), xPtr >> 2);
        if (first && wIn < 0) f32.set(b, wPtr >> 2);
        if (first && bias && biasIn < 0) f32.set(bias, biasPtr >> 2);
        [p0, p1, out] = [xPtr, wIn >= 0 ? wIn : wPtr, yPtr];
      } else if (mode === Mode.BackwardInput) {
        if (yRes < 0) f32.set(ys(a), yPtr >> 2);
        if (first && wIn < 0) f32.set(b, wPtr >> 2);
        if (xRes < 0) f32.set(xs(res), xPtr >> 2);
        [p0, p1, out] = [yPtr, wIn >= 0 ? wIn : wPtr, xPtr];
      } else {
        if (xRes < 0) f32.set(xs(a), xPtr >> 2);
        if (yRes < 0) f32.set(ys(b), yPtr >> 2);
        // dW (and the bias gradient) accumulate in the Wasm memory over the chunks.
        if (first && dwIn < 0 && !storeFirst) f32.set(res, wPtr >> 2);
        if (first && bias) f32.set(bias, biasPtr >> 2);
        [p0, p1, out] = [xPtr, yPtr, dwIn >= 0 ? dwIn : wPtr];
      }
      const d = rt.i32;
      const w = DESC >> 2;
      const biasAt = biasIn >= 0 ? biasIn : biasPtr;
      d.set([mode, nb, C, cOut, groups, ...geo.flat(), p0, p1, out, colsPtr, colsPerThread, SCRATCH, rt.scratchPerThread, pointwise ? 1 : 0, bias ? biasAt : 0,
        padded ? 1 : 0, ...extent, padPtr, padPerThread, S, rowsPtr, rowsPerThread, lanes ? 2 : direct ? 1 : 0, clamp ? 1 : 0], w);
      if (clamp) rt.f32.set(clamp, w + 43);
      d[w + 45] = sumsPtr;
      d[w + 46] = (first ? 1 : 0) | (last ? 2 : 0) | (first && storeFirst ? 4 : 0);
      serial = (serial % 0x3fffffff) + 1;
      d[w + 47] = serial;
      // The lanes forward and input gradient: one share per group of four items, claimed by
      // whichever thread is free (a late or descheduled thread holds up one group, not half).
      // The per-item forward and input gradient (one item per GEMM, not the lanes or direct
      // kernels, nor a pointwise forward splitting columns): up to ITEM_SHARES_PER_THREAD shares
      // a thread, so a late thread holds up a few items rather than half of them.
      const perItem = !lanes && !direct && S === 1 && mode !== Mode.BackwardWeight && !(mode === Mode.Forward && pointwise && nb < t);
      const shares = lanes && mode !== Mode.BackwardWeight ? Math.min(MAX_SHARES, Math.ceil(nb / 4))
        : perItem && t > 1 ? Math.min(MAX_SHARES, nb, ITEM_SHARES_PER_THREAD * t) : t;
      pool.run('convTask', DESC, shares, t);
      if (mode === Mode.Forward) {
        if (yRes < 0) rt.copyOut(yPtr, nb * yItem, res, n0 * yItem);
      } else if (mode === Mode.BackwardInput) {
        if (xRes < 0) rt.copyOut(xPtr, nb * xItem, res, n0 * xItem);
      } else if (last) {
        if (dwIn < 0) rt.copyOut(wPtr, wSize, res);
        if (bias) rt.copyOut(biasPtr, cOut, bias);
      }
    }
    return true;
  };

  /**
   * `run` on the taps that read the input (conv-taps.ts), when most only ever read padding:
   * the weights (or the weight gradient) go through a cropped copy. The weight gradient
   * overwrites `res` (see convBackwardWeight).
   */
  const runCropped = (mode: Mode, a: Float32Array, b: Float32Array, g: WindowGeometry, cOut: number, groups: number, res: Float32Array,
    bias: Float32Array | null = null, clamp: ConvClamp | null = null): boolean => {
    const crop = cropDeadTaps(g);
    const overwrite = mode === Mode.BackwardWeight;
    // Gathering the cropped weights costs a pass over all of them: worth it for a kernel cut to
    // half or less. ResNet-18's layer4.0.conv1 on 32×32 images (4 of 9 taps over a 2×2 map),
    // resident weights, 1 thread: forward 1.9-2.0 → 1.16 ms, input gradient 2.1-2.2 → 1.44 ms,
    // weight gradient 1.8-1.9 → 1.24 ms; with weights outside the Wasm memory about even.
    if (!crop || sizeOf(crop.geometry.kernel) * 2 > sizeOf(g.kernel)) return run(mode, a, b, g, cOut, groups, res, bias, clamp, overwrite);
    const rows = cOut * (g.channels / groups);
    if (mode === Mode.BackwardWeight) {
      // The convolution overwrites the cropped gradient; the scatter back writes every tap of
      // res, the dead ones as zero: one pass over the full gradient, split across the pool when
      // resident (no zero-fill on this thread, no gather of zeros).
      const part = cropBuffer(crop, rows, res);
      if (!run(mode, a, b, crop.geometry, cOut, groups, part, bias, null, true)) return false;
      uncropWeights(crop, g.kernel, rows, part, res, true);
      return true;
    }
    return run(mode, a, cropWeights(crop, g.kernel, rows, b), crop.geometry, cOut, groups, res, bias, clamp);
  };

  const f32 = (...arrays: Float[]): boolean => arrays.every((a) => a instanceof Float32Array);
  // Depthwise convolutions (groups = channels) take the direct kernel of depthwise.ts.
  const dw = (g: WindowGeometry, cOut: number, groups: number) => isDepthwise(g, cOut, groups);
  return {
    convForward(x, w, bias, g, cOut, groups, out, clamp = null) {
      const b = bias as Float32Array | null;
      const ok = f32(x, w, out) && (!b || b instanceof Float32Array) && (dw(g, cOut, groups)
        ? runDepthwise(rt, pool, threads(), DepthwiseMode.Forward, g, cOut, { x: x as Float32Array, w: w as Float32Array, bias: b }, out as Float32Array, clamp)
        : runCropped(Mode.Forward, x as Float32Array, w as Float32Array, g, cOut, groups, out as Float32Array, b, clamp));
      if (!ok) referenceKernels.convForward(x, w, bias, g, cOut, groups, out, clamp);
    },
    convBackwardInput(dy, w, g, cOut, groups, dx) {
      const ok = f32(dy, w, dx) && (dw(g, cOut, groups)
        ? runDepthwise(rt, pool, threads(), DepthwiseMode.BackwardInput, g, cOut, { dy: dy as Float32Array, w: w as Float32Array }, dx as Float32Array)
        : runCropped(Mode.BackwardInput, dy as Float32Array, w as Float32Array, g, cOut, groups, dx as Float32Array));
      if (!ok) referenceKernels.convBackwardInput(dy, w, g, cOut, groups, dx);
    },
    convBackwardWeight(x, dy, g, cOut, groups, dWeight, dBias = null) {
      const db = dBias as Float32Array | null;
      let ok = f32(x, dy, dWeight) && (!db || db instanceof Float32Array);
      if (ok && dw(g, cOut, groups)) {
        // The depthwise kernel adds to dW (small: one kernel per channel).
        dWeight.fill(0);
        ok = runDepthwise(rt, pool, threads(), DepthwiseMode.BackwardWeight, g, cOut, { x: x as Float32Array, dy: dy as Float32Array }, dWeight as Float32Array);
        if (ok && db) biasGradient(dy, g.batch, cOut, sizeOf(g.outSize), db);
      } else if (ok) {
        // The bias gradient is summed in Wasm beside the weight gradient, from the same staged dy.
        ok = runCropped(Mode.BackwardWeight, x as Float32Array, dy as Float32Array, g, cOut, groups, dWeight as Float32Array, db);
      }
      if (!ok) referenceKernels.convBackwardWeight(x, dy, g, cOut, groups, dWeight, dBias);
    },
  };
}
