/**
 * Convolution kernels, composed from the backend's im2col/col2im and GEMM (whichever backend is
 * active supplies those): the input is unfolded into `[channels·Πkernel, Πout]` columns per
 * batch item and each group's weight block multiplies its rows. The input gradient is the
 * adjoint, Wᵀ·dY folded back with col2im; the weight gradient is dY·colsᵀ summed over the batch.
 * Large batches are processed in chunks to bound the size of the column buffer.
 */
import { kernels, type ConvClamp, type WindowGeometry } from '../../backend.js';
import { sizeOf } from '../../shape.js';

type Float = Float32Array | Float64Array;

/** Elements of one im2col buffer beyond which the batch is processed in chunks. */
const COLS_BUDGET = 1 << 22;

function like(a: Float, n: number): Float {
  return a instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/** Calls `fn` for consecutive chunks of the batch, with the geometry of each chunk. */
function forEachChunk(g: WindowGeometry, fn: (n0: number, sub: WindowGeometry) => void): number {
  const perItem = g.channels * sizeOf(g.kernel) * sizeOf(g.outSize);
  const chunk = Math.max(1, Math.min(g.batch, Math.floor(COLS_BUDGET / Math.max(1, perItem))));
  for (let n0 = 0; n0 < g.batch; n0 += chunk) fn(n0, { ...g, batch: Math.min(chunk, g.batch - n0) });
  return chunk;
}

/** True when im2col would copy the input unchanged (1×1 kernel, stride 1, no padding). */
export function isPointwise(g: WindowGeometry): boolean {
  return g.kernel.every((k, i) => k === 1 && g.stride[i] === 1 && g.padBegin[i] === 0 && g.padEnd[i] === 0);
}

/**
 * out `[N, cOut, ...outSize]` = conv of x `[N, C, ...inSize]` with w `[cOut, C/groups, ...k]`
 * (geometry `g`), plus bias[c] on channel c when given (loaded first, the GEMM adds onto it).
 */
export function convForward(x: Float, w: Float, bias: Float | null, g: WindowGeometry, cOut: number, groups: number, out: Float,
  clamp: ConvClamp | null = null): void {
  const k = kernels();
  const K = sizeOf(g.kernel);
  const L = sizeOf(g.outSize);
  const inPlane = sizeOf(g.inSize);
  const cIn = g.channels;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  const pointwise = isPointwise(g);
  if (bias) {
    for (let n = 0; n < g.batch; n++) {
      for (let c = 0; c < cOut; c++) out.fill(bias[c]!, (n * cOut + c) * L, (n * cOut + c + 1) * L);
    }
  }
  let cols: Float | null = null;
  forEachChunk(g, (n0, sub) => {
    const nb = sub.batch;
    const xs = x.subarray(n0 * cIn * inPlane, (n0 + nb) * cIn * inPlane) as Float;
    let c: Float = xs;
    if (!pointwise) {
      cols ??= like(x, sub.batch * cIn * K * L);
      c = cols.subarray(0, nb * cIn * K * L) as Float;
      k.im2col(xs, sub, c);
    }
    for (let gi = 0; gi < groups; gi++) {
      k.gemm({
        batch: nb, m: cOutG, n: L, k: cInG * K, transA: false, transB: false,
        a: w, aOffset: gi * cOutG * cInG * K, aBatchStride: 0,
        b: c, bOffset: gi * cInG * K * L, bBatchStride: cIn * K * L,
        c: out, cOffset: n0 * cOut * L + gi * cOutG * L, cBatchStride: cOut * L,
        accumulate: bias !== null,
      });
    }
  });
  if (clamp) {
    // The clamp op's comparisons (NaN kept), after the sum: what conv followed by clamp gives.
    const [lo, hi] = clamp;
    for (let i = 0; i < out.length; i++) {
      const v = out[i]!;
      out[i] = v < lo ? lo : v > hi ? hi : v;
    }
  }
}

/** dx (zeroed by the caller) += the adjoint of convForward (without bias) applied to dy. */
export function convBackwardInput(dy: Float, w: Float, g: WindowGeometry, cOut: number, groups: number, dx: Float): void {
  const k = kernels();
  const K = sizeOf(g.kernel);
  const L = sizeOf(g.outSize);
  const inPlane = sizeOf(g.inSize);
  const cIn = g.channels;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  const pointwise = isPointwise(g);
  let cols: Float | null = null;
  forEachChunk(g, (n0, sub) => {
    const nb = sub.batch;
    const dxs = dx.subarray(n0 * cIn * inPlane, (n0 + nb) * cIn * inPlane) as Float;
    cols ??= pointwise ? null : like(dy, sub.batch * cIn * K * L);
    const c = pointwise ? dxs : (cols!.subarray(0, nb * cIn * K * L) as Float);
    for (let gi = 0; gi < groups; gi++) {
      k.gemm({
        batch: nb, m: cInG * K, n: L, k: cOutG, transA: true, transB: false,
        a: w, aOffset: gi * cOutG * cInG * K, aBatchStride: 0,
        b: dy, bOffset: n0 * cOut * L + gi * cOutG * L, bBatchStride: cOut * L,
        c, cOffset: gi * cInG * K * L, cBatchStride: cIn * K * L,
        accumulate: pointwise,
      });
    }
    if (!pointwise) k.col2im(c, sub, dxs);
  });
}

/** dw = Σ_batch dy · im2col(x)ᵀ, per group (overwritten); dBias[c] += Σ dy over the batch and positions of channel c. */
export function convBackwardWeight(x: Float, dy: Float, g: WindowGeometry, cOut: number, groups: number, dw: Float, dBias: Float | null = null): void {
  if (dBias) biasGradient(dy, g.batch, cOut, sizeOf(g.outSize), dBias);
  // The per-item GEMMs add to dw, from zero.
  dw.fill(0);
  const k = kernels();
  const K = sizeOf(g.kernel);
  const L = sizeOf(g.outSize);
  const inPlane = sizeOf(g.inSize);
  const cIn = g.channels;
  const cInG = cIn / groups;
  const cOutG = cOut / groups;
  const pointwise = isPointwise(g);
  let cols: Float | null = null;
  forEachChunk(g, (n0, sub) => {
    const nb = sub.batch;
    const xs = x.subarray(n0 * cIn * inPlane, (n0 + nb) * cIn * inPlane) as Float;
    let c: Float = xs;
    if (!pointwise) {
      cols ??= like(x, sub.batch * cIn * K * L);
      c = cols.subarray(0, nb * cIn * K * L) as Float;
      k.im2col(xs, sub, c);
    }
    // One GEMM per batch item, batched over groups (each group's blocks are equally spaced).
    for (let n = 0; n < nb; n++) {
      k.gemm({
        batch: groups, m: cOutG, n: cInG * K, k: L, transA: false, transB: true,
        a: dy, aOffset: (n0 + n) * cOut * L, aBatchStride: cOutG * L,
        b: c, bOffset: n * cIn * K * L, bBatchStride: cInG * K * L,
        c: dw, cOffset: 0, cBatchStride: cOutG * cInG * K,
        accumulate: true,
      });
    }
  });
}


/** dBias[c] += Σ over n and l of dy [n, c, l], summed in (n, l) order per channel. */
export function biasGradient(dy: Float, n: number, c: number, L: number, dBias: Float): void {
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) {
      const o = (b * c + ch) * L;
      for (let l = 0; l < L; l++) s += dy[o + l]!;
    }
    dBias[ch] = dBias[ch]! + s;
  }
}
