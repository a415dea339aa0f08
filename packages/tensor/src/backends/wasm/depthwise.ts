/**
 * Depthwise convolution on Wasm (see assembly/depthwise.ts): 1-D and 2-D convolutions whose
 * groups equal the input channels (one input channel per group, any whole number of output
 * channels per group) run a direct kernel rather than one tiny GEMM per group. The operands
 * are staged into Wasm memory batch chunk by batch chunk, like the other conv kernels.
 */
import type { ConvClamp, WindowGeometry } from '../../backend.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, operandCapacity, type WasmRuntime } from './runtime.js';

export const enum DepthwiseMode {
  Forward = 0,
  BackwardInput = 1,
  BackwardWeight = 2,
}

/** Operand bytes (inputs and outputs) a forward chunk aims at: about what the L2/L3 caches hold. */
export const CACHE_CHUNK = 4 << 20;

/** Multiply-adds each extra thread must get before waking it pays off. */
const WORK_PER_THREAD = 1 << 16;

/** True when the convolution is depthwise with at most 2 spatial dims. */
export function isDepthwise(g: WindowGeometry, cOut: number, groups: number): boolean {
  return groups > 1 && groups === g.channels && cOut % groups === 0 && g.inSize.length <= 2 && g.inSize.length >= 1;
}

/**
 * Runs one mode of a depthwise convolution. `x` is the input (forward, weight gradient), `w`
 * the weights (forward, input gradient), `dy` the output gradient; `res` receives the output,
 * or has dx / dw added to it; `clamp` bounds the forward's output. Returns false when one
 * batch item does not fit the memory.
 */
export function runDepthwise(
  rt: WasmRuntime, pool: WorkerPool, threads: number, mode: DepthwiseMode, g: WindowGeometry, cOut: number,
  ops: { x?: Float32Array; w?: Float32Array; bias?: Float32Array | null; dy?: Float32Array }, res: Float32Array,
  clamp: ConvClamp | null = null,
): boolean {
  const two = (v: number[], fill: number): number[] => (v.length === 1 ? [fill, v[0]!] : v);
  const [IH, IW] = two(g.inSize, 1) as [number, number];
  const [KH, KW] = two(g.kernel, 1) as [number, number];
  const [SH, SW] = two(g.stride, 1) as [number, number];
  const [PH, PW] = two(g.padBegin, 0) as [number, number];
  const [DH, DW] = two(g.dilation, 1) as [number, number];
  const [OH, OW] = two(g.outSize, 1) as [number, number];
  const N = g.batch;
  const C = g.channels;
  const mult = cOut / C;
  if (N === 0 || OH * OW === 0) return false;
  // The extent of the padded plane the windows read.
  const PIH = (OH - 1) * SH + (KH - 1) * DH + 1;
  const PIW = (OW - 1) * SW + (KW - 1) * DW + 1;
  const xItem = C * IH * IW;
  const yItem = cOut * OH * OW;
  const wSize = cOut * KH * KW;
  const work = N * cOut * OH * OW * KH * KW;
  const units = mode === DepthwiseMode.BackwardWeight ? C : N * C;
  const t = Math.max(1, Math.min(threads, units, Math.floor(work / WORK_PER_THREAD)));
  const bufPerThread = align((PIH * PIW + 16) * 4, 64);
  const fixed = wSize * 4 + cOut * 4 + bufPerThread * t + 512;
  const perItem = (xItem + yItem) * 4;
  const room = operandCapacity(rt) - fixed;
  if (room < perItem) return false;
  // Forward: chunks of about CACHE_CHUNK bytes, so what is copied in is still in cache when the
  // kernel reads it, and the result when it is copied out.
  const cap = mode === DepthwiseMode.Forward ? Math.max(1, Math.floor(CACHE_CHUNK / perItem)) : N;
  const chunk = Math.max(1, Math.min(N, cap, Math.floor(room / perItem)));
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const wPtr = rt.operandBase;
    const biasPtr = align(wPtr + wSize * 4, 64);
    const bufPtr = align(biasPtr + cOut * 4, 64);
    const xPtr = align(bufPtr + bufPerThread * t, 64);
    const yPtr = align(xPtr + nb * xItem * 4, 64);
    rt.ensure(yPtr + nb * yItem * 4);
    const f32 = rt.f32;
    const xs = (a: Float32Array) => a.subarray(n0 * xItem, (n0 + nb) * xItem);
    const ys = (a: Float32Array) => a.subarray(n0 * yItem, (n0 + nb) * yItem);
    let resPtr: number;
    if (mode === DepthwiseMode.Forward) {
      f32.set(xs(ops.x!), xPtr >> 2);
      f32.set(ops.w!, wPtr >> 2);
      if (ops.bias) f32.set(ops.bias, biasPtr >> 2);
      resPtr = yPtr;
    } else if (mode === DepthwiseMode.BackwardInput) {
      f32.set(ys(ops.dy!), yPtr >> 2);
      f32.set(ops.w!, wPtr >> 2);
      f32.set(xs(res), xPtr >> 2);
      resPtr = xPtr;
    } else {
      f32.set(xs(ops.x!), xPtr >> 2);
      f32.set(ys(ops.dy!), yPtr >> 2);
      f32.set(res, wPtr >> 2);
      resPtr = wPtr;
    }
    rt.i32.set([mode, nb, C, mult, IH, IW, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, PIH, PIW,
      xPtr, wPtr, mode === DepthwiseMode.Forward && ops.bias ? biasPtr : 0, resPtr, yPtr, bufPtr, bufPerThread,
      mode === DepthwiseMode.Forward && clamp ? 1 : 0], DESC >> 2);
    if (mode === DepthwiseMode.Forward && clamp) rt.f32.set(clamp, (DESC >> 2) + 26);
    pool.run('depthwiseTask', DESC, t);
    if (mode === DepthwiseMode.Forward) rt.copyOut(yPtr, nb * yItem, res, n0 * yItem);
    else if (mode === DepthwiseMode.BackwardInput) rt.copyOut(xPtr, nb * xItem, res, n0 * xItem);
    else rt.copyOut(wPtr, wSize, res);
  }
  return true;
}
