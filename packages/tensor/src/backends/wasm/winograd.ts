/**
 * Winograd F(2×2, 3×3) for 3×3, stride-1, undilated, ungrouped 2-D convolutions on Wasm: the
 * forward pass and the input gradient (the same convolution of dy by the flipped, transposed
 * kernels, padding 2 − p), with 16 products per 2×2 output tile and channel pair instead of
 * 36 (assembly/winograd.ts). Three pool tasks per chunk of items: transform the weights (first
 * chunk only) and the inputs, the 16 tile GEMMs, transform the outputs.
 *
 * Chosen by shape: with few channels the transforms (per channel, not per channel pair) cost
 * more than the products they save. Float32 error: the transforms only add and halve, so the
 * result differs from the direct sum by a few ulps of the inputs' magnitude (tests compare to
 * the reference and to a float64 sum).
 */
import type { ConvClamp } from '../../backend.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, env, operandCapacity, SCRATCH, type WasmRuntime } from './runtime.js';

/** KILN_WASM_WINOGRAD=0 keeps every 3×3 convolution on im2col + GEMM (for A/B measurements). */
const enabled = env('KILN_WASM_WINOGRAD') !== '0';

/** Input and output channels from which Winograd beats im2col + GEMM (measured on ResNet-18's 3×3 layers). */
export const WINOGRAD_MIN_CHANNELS = 16;
/**
 * Bytes of per-chunk buffers (transformed inputs and outputs, staged x and y) a chunk aims for:
 * they stay in the last-level cache. Larger chunks mean fewer pool tasks and wider tile GEMMs
 * (U packed once per chunk); 4 MiB measured 6-8% faster than 2 MiB on ResNet-18 layer2 at
 * batch 32 (one chunk instead of two), layer1 unchanged.
 */
const CHUNK_BYTES = 4 << 20;
/** Multiply-adds each extra thread must get before waking it pays off. */
const WORK_PER_THREAD = 1 << 17;
/**
 * Shares of the 16 tile-GEMM phases: one GEMM each, so a thread that starts late or is
 * descheduled leaves GEMMs for the others to claim (pool.ts) instead of half the phase. Each
 * share's packing scratch is indexed by share, and the pool lays out scratch for 16.
 */
const GEMM_SHARES = 16;
/** Shares per thread of the output transform (channel ranges; no per-share buffers). */
const OUTPUT_SHARES_PER_THREAD = 4;
/**
 * Shares per thread of the input, gradient and weight transforms (ranges of planes or kernels;
 * the padded-plane buffers go by the running thread), so a late worker leaves most of a
 * transform to the others rather than half of it.
 */
const TRANSFORM_SHARES_PER_THREAD = 4;

/** Shares of a transform over `units` planes or kernel groups on t threads (one on one thread). */
const transformShares = (t: number, units: number) => (t > 1 ? Math.max(1, Math.min(units, TRANSFORM_SHARES_PER_THREAD * t)) : 1);

/** Geometry of one Winograd convolution: input [N, Ci, H, W] → output [N, Co, OH, OW], padding before PH, PW. */
export interface WinogradShape {
  N: number;
  Ci: number;
  Co: number;
  H: number;
  W: number;
  PH: number;
  PW: number;
  OH: number;
  OW: number;
}

/**
 * True when a convolution (geometry as 3-D: [in, kernel, stride, padBegin, dilation, out] with
 * a unit first dim) takes Winograd: 3×3, stride 1, dilation 1, groups 1, enough channels.
 */
export function isWinograd(geo: number[][], channels: number, cOut: number, groups: number): boolean {
  const [i, k, s, p, d, o] = geo as [number[], number[], number[], number[], number[], number[]];
  // Padding up to 2, so the input gradient's padding 2 − p is not negative.
  if (!(enabled && groups === 1 && channels >= WINOGRAD_MIN_CHANNELS && cOut >= WINOGRAD_MIN_CHANNELS
    && i[0] === 1 && o[0] === 1 && k[0] === 1 && k[1] === 3 && k[2] === 3 && s.every((v) => v === 1) && d.every((v) => v === 1)
    && p[1]! <= 2 && p[2]! <= 2)) return false;
  // Partial tiles multiply padding: a 1×1 or 1×n output costs 16 products per tile against 9
  // per output. Winograd only where the tiles need at most 3/4 of the direct products
  // (2×2 maps: 16 of 36; 3×3 maps: 64 of 81 stay direct).
  const tiles = Math.ceil(o[1]! / 2) * Math.ceil(o[2]! / 2);
  return 16 * tiles * 4 <= 9 * o[1]! * o[2]! * 3;
}

/** Planes of U, V and M are 16 floats more than their size apart (assembly/winograd.ts, spread). */
const spread = (plane: number) => plane + 16;

/**
 * Sizes shared by the forward/input-gradient and the weight-gradient passes: tiles per item, the
 * threads worth waking, per-thread plane buffers, and how many items a chunk holds once the fixed
 * buffers (the 16 transformed weight planes, staged weights, `extraFixed` bytes, plane buffers)
 * are placed. Null when one item does not fit the memory.
 */
function plan(rt: WasmRuntime, threads: number, s: WinogradShape, extraFixed: number) {
  const { N, Ci, Co, H, W, OH, OW } = s;
  const TH = (OH + 1) >> 1;
  const TW = (OW + 1) >> 1;
  const T = TH * TW;
  const xItem = Ci * H * W;
  const yItem = Co * OH * OW;
  const perItem = (16 * (Ci + Co) * T + xItem + yItem) * 4;
  const nb0 = Math.max(1, Math.min(N, Math.floor(CHUNK_BYTES / perItem)));
  const t = Math.max(1, Math.min(threads, 16, Math.floor((16 * Co * Ci * T * nb0) / WORK_PER_THREAD)));
  const wSize = Co * Ci * 9;
  // Per thread: the zero-padded input plane, then 4 tiles' transforms (256 bytes, 16-aligned).
  const planeBytes = align((2 * TH + 2) * (2 * TW + 2) * 4 + 16 + 256, 64);
  const uBytes = align(16 * spread(Co * Ci) * 4, 64);
  // Then V, M, x and y of a chunk (+ 4 tiles of slack per row).
  const fixed = uBytes + align(wSize * 4, 64) + extraFixed + planeBytes * t + 16 * (Ci + Co) * 16 + 16 * 32 * 4 + 1024;
  if (operandCapacity(rt) - fixed < perItem) return null;
  const chunk = Math.max(1, Math.min(nb0, Math.floor((operandCapacity(rt) - fixed) / perItem)));
  /** The chunk buffers of nb items, from `from` (after the plane buffers): V, M, x, y; memory grown to hold them. */
  const chunkAt = (from: number, nb: number) => {
    const PS = align(nb * T, 4);
    const vPtr = from;
    const mPtr = align(vPtr + 16 * spread(Ci * PS) * 4, 64);
    const xPtr = align(mPtr + 16 * spread(Co * PS) * 4, 64);
    const yPtr = align(xPtr + nb * xItem * 4, 64);
    rt.ensure(yPtr + nb * yItem * 4);
    return { vPtr, mPtr, xPtr, yPtr };
  };
  return { xItem, yItem, t, wSize, planeBytes, uBytes, chunk, chunkAt };
}

/**
 * Runs one Winograd convolution over the whole batch in chunks of items. `flip`: `w` is the
 * layer's [Ci, Co, 3, 3] weights of the forward pass being differentiated (input gradient:
 * x is dy, y is dx, accumulated into). x and y already in the Wasm memory (resident: the
 * backward pass keeps dy and dx there) are read and written in place, not staged and copied
 * back. Returns false when one item does not fit the memory.
 */
export function runWinograd(rt: WasmRuntime, pool: WorkerPool, threads: number, s: WinogradShape, x: Float32Array, w: Float32Array,
  y: Float32Array, flip: boolean, bias: Float32Array | null = null, clamp: ConvClamp | null = null): boolean {
  const { N, Ci, Co, H, W, PH, PW, OH, OW } = s;
  // Bytes ahead of the chunk buffers: U, the staged weights, then the bias.
  const p = plan(rt, threads, s, align(Co * 4, 64));
  if (!p) return false;
  const { xItem, yItem, t, wSize, planeBytes, uBytes, chunk, chunkAt } = p;
  const wRes = rt.residentPtr(w);
  const biasRes = bias ? rt.residentPtr(bias) : -1;
  const xRes = rt.residentPtr(x);
  const yRes = rt.residentPtr(y);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const uPtr = rt.operandBase;
    const wPtr = uPtr + uBytes;
    const biasPtr = align(wPtr + wSize * 4, 64);
    const planePtr = align(biasPtr + Co * 4, 64);
    const staged = chunkAt(planePtr + planeBytes * t, nb);
    const { vPtr, mPtr } = staged;
    const xPtr = xRes >= 0 ? xRes + n0 * xItem * 4 : staged.xPtr;
    const yPtr = yRes >= 0 ? yRes + n0 * yItem * 4 : staged.yPtr;
    const f32 = rt.f32;
    if (n0 === 0) {
      if (wRes < 0) f32.set(w, wPtr >> 2);
      if (bias && biasRes < 0) f32.set(bias, biasPtr >> 2);
    }
    if (xRes < 0) f32.set(x.subarray(n0 * xItem, (n0 + nb) * xItem), xPtr >> 2);
    if (flip && yRes < 0) f32.set(y.subarray(n0 * yItem, (n0 + nb) * yItem), yPtr >> 2);
    const words = (phase: number) => [phase, nb, Ci, Co, H, W, PH, PW, OH, OW, xPtr, wRes >= 0 ? wRes : wPtr, flip ? 1 : 0,
      n0 === 0 ? uPtr : 0, vPtr, mPtr, yPtr, bias ? (biasRes >= 0 ? biasRes : biasPtr) : 0, flip ? 1 : 0, clamp ? 1 : 0, 0, 0,
      SCRATCH, rt.scratchPerThread, planePtr, planeBytes];
    const d = DESC >> 2;
    const set = (phase: number) => {
      rt.i32.set(words(phase), d);
      if (clamp) rt.f32.set(clamp, d + 20);
    };
    set(3);
    pool.run('convTask', DESC, transformShares(t, nb * Ci), t);
    // The GEMMs read U whatever the chunk (phase 3 got 0 after the first chunk: U already transformed).
    set(4);
    rt.i32[d + 13] = uPtr;
    pool.run('convTask', DESC, GEMM_SHARES, t);
    set(5);
    pool.run('convTask', DESC, t > 1 ? Math.min(Co, OUTPUT_SHARES_PER_THREAD * t) : 1, t);
    if (yRes < 0) rt.copyOut(yPtr, nb * yItem, y, n0 * yItem);
  }
  return true;
}

/**
 * The weight gradient of a Winograd-shaped convolution: dW [Co, Ci, 3, 3] += the adjoint of the
 * forward transform (dW = … when `overwrite`: what dW held is never read) (assembly/winograd.ts,
 * phases 6–8), for input x [N, Ci, H, W] and dy
 * [N, Co, OH, OW] (either read in place when resident). S sums over the chunks in order, so the
 * result does not depend on the thread count. Returns false when one item does not fit the memory.
 */
export function runWinogradWeight(rt: WasmRuntime, pool: WorkerPool, threads: number, s: WinogradShape, x: Float32Array, dy: Float32Array,
  dW: Float32Array, overwrite = false): boolean {
  const { N, Ci, Co, H, W, PH, PW, OH, OW } = s;
  // S takes U's place (same size); no bias.
  const p = plan(rt, threads, s, 0);
  if (!p) return false;
  const { xItem, yItem, t, wSize, planeBytes, uBytes: sBytes, chunk, chunkAt } = p;
  const dwRes = rt.residentPtr(dW);
  const xRes = rt.residentPtr(x);
  const dyRes = rt.residentPtr(dy);
  const sPtr = rt.operandBase;
  const dwPtr = sPtr + sBytes;
  const planePtr = align(dwPtr + wSize * 4, 64);
  const d = DESC >> 2;
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nb = Math.min(chunk, N - n0);
    const staged = chunkAt(planePtr + planeBytes * t, nb);
    const { vPtr, mPtr } = staged;
    const xPtr = xRes >= 0 ? xRes + n0 * xItem * 4 : staged.xPtr;
    const yPtr = dyRes >= 0 ? dyRes + n0 * yItem * 4 : staged.yPtr;
    const f32 = rt.f32;
    if (n0 === 0 && dwRes < 0 && !overwrite) f32.set(dW, dwPtr >> 2);
    if (xRes < 0) f32.set(x.subarray(n0 * xItem, (n0 + nb) * xItem), xPtr >> 2);
    if (dyRes < 0) f32.set(dy.subarray(n0 * yItem, (n0 + nb) * yItem), yPtr >> 2);
    const words = (phase: number) => [phase, nb, Ci, Co, H, W, PH, PW, OH, OW, xPtr, dwRes >= 0 ? dwRes : dwPtr, 0,
      sPtr, vPtr, mPtr, yPtr, 0, n0 > 0 ? 1 : 0, 0, 0, 0, SCRATCH, rt.scratchPerThread, planePtr, planeBytes];
    rt.i32.set(words(6), d);
    pool.run('convTask', DESC, transformShares(t, nb * Math.min(Ci, Co)), t);
    rt.i32.set(words(7), d);
    pool.run('convTask', DESC, GEMM_SHARES, t);
  }
  rt.i32.set([8, N, Ci, Co, H, W, PH, PW, OH, OW, 0, dwRes >= 0 ? dwRes : dwPtr, 0, sPtr, 0, 0, 0, 0, overwrite ? 1 : 0, 0, 0, 0,
    SCRATCH, rt.scratchPerThread, planePtr, planeBytes], d);
  pool.run('convTask', DESC, transformShares(t, (Co * Ci) >> 2), t);
  if (dwRes < 0) rt.copyOut(dwPtr, wSize, dW);
  return true;
}
