/**
 * Kernel taps that only ever read padding. When a feature map is smaller than the kernel's
 * reach — ResNet's last stage on CIFAR-sized inputs is 1×1 or 2×2 under a 3×3 kernel with
 * padding 1 — some taps multiply zeros for every output position. The convolution over the
 * remaining block of taps (with correspondingly less padding) sums the same nonzero terms in
 * the same order (a dropped tap only ever added w·0), grouped into GEMM depth blocks
 * differently, so results differ by float rounding at most. Forward and input gradient run on
 * the cropped weights; the weight gradient's dropped taps receive nothing (they would get Σ 0).
 *
 * Weights an optimizer keeps in the Wasm memory (resident) are cropped there, by the worker
 * pool (assembly/taps.ts), into a resident copy the convolution reads in place, and the weight
 * gradient is written back the same way: no pass over the full weights on one thread, no
 * staging of the copy.
 */
import type { WindowGeometry } from '../../backend.js';
import { sizeOf } from '../../shape.js';
import { residentArrays, WasmHeap } from './heap.js';
import type { WorkerPool } from './pool.js';
import { DESC, type WasmRuntime } from './runtime.js';

/** Tap offsets the task descriptor holds (64 words after its 6). */
const MAX_TAPS = 64;
/** Floats of the full weights a share of a threaded copy covers at least, and shares per thread. */
const WORK_PER_SHARE = 1 << 16;
const SHARES_PER_THREAD = 4;

interface TapsWasm {
  rt: WasmRuntime;
  pool: WorkerPool;
  threads: () => number;
  /** The resident copy cropWeights returns (grown as needed; reused by the next call). */
  part: Float32Array | null;
}
let wasm: TapsWasm | null = null;

/** Lets cropWeights and uncropWeights copy resident weights in the Wasm memory, on the worker pool. */
export function useWasmTaps(rt: WasmRuntime, pool: WorkerPool, threads: () => number): void {
  wasm = { rt, pool, threads, part: null };
}

/** A resident array of n floats (the reused copy), or null where the heap has no room. */
function residentPart(w: TapsWasm, n: number): Float32Array | null {
  if (!w.part || w.part.length < n) {
    w.part = null;
    w.part = residentArrays(WasmHeap.of(w.rt), w.rt, [n])?.[0] ?? null;
  }
  return w.part ? w.part.subarray(0, n) : null;
}

/** Directions of assembly/taps.ts: part ← full, full ← part, or full ← part with the other taps zeroed. */
const enum Copy {
  Gather = 0,
  Scatter = 1,
  ScatterZeroing = 2,
}

/** Copies the k taps `offs` of each row between resident full weights and part (assembly/taps.ts). */
function copyTaps(w: TapsWasm, direction: Copy, rows: number, fullK: number, offs: Int32Array, full: Float32Array, part: Float32Array): void {
  const t = w.threads();
  const shares = t <= 1 ? 1 : Math.max(1, Math.min(t * SHARES_PER_THREAD, rows, Math.floor((rows * fullK) / WORK_PER_SHARE)));
  w.rt.i32.set([direction, rows, fullK, offs.length, w.rt.residentPtr(full), w.rt.residentPtr(part), ...offs], DESC >> 2);
  w.pool.run('tapsTask', DESC, shares, t);
}

/** The live taps [first, end) of each spatial dim and the geometry of the cropped convolution. */
export interface TapCrop {
  geometry: WindowGeometry;
  first: number[];
  end: number[];
}

/** True when tap `t` of one dim reads an input position for some output position. */
function live(t: number, inSize: number, out: number, stride: number, pad: number, dilation: number): boolean {
  // o·stride − pad + t·dilation ∈ [0, inSize) for some o ∈ [0, out).
  const lowest = pad - t * dilation; // o·stride must reach this
  const highest = inSize - 1 + pad - t * dilation; // and not pass this
  const o0 = Math.max(0, Math.ceil(lowest / stride));
  return o0 < out && o0 * stride <= highest;
}

/**
 * The cropped convolution when some leading or trailing taps of a dim never read the input
 * (and cropping keeps the padding non-negative); null when every tap is needed.
 */
export function cropDeadTaps(g: WindowGeometry): TapCrop | null {
  const n = g.kernel.length;
  const first: number[] = [];
  const end: number[] = [];
  let cropped = false;
  for (let i = 0; i < n; i++) {
    const k = g.kernel[i]!;
    const isLive = (t: number) => live(t, g.inSize[i]!, g.outSize[i]!, g.stride[i]!, g.padBegin[i]!, g.dilation[i]!);
    let a = 0;
    while (a < k && !isLive(a)) a++;
    if (a === k) return null; // no tap reads the input: leave the all-padding case alone
    let b = k;
    while (b > a && !isLive(b - 1)) b--;
    if (g.padBegin[i]! - a * g.dilation[i]! < 0) return null;
    if (a > 0 || b < k) cropped = true;
    first.push(a);
    end.push(b);
  }
  if (!cropped) return null;
  const geometry: WindowGeometry = {
    ...g,
    kernel: end.map((b, i) => b - first[i]!),
    padBegin: g.padBegin.map((p, i) => p - first[i]! * g.dilation[i]!),
    padEnd: g.padEnd.map((p, i) => p - (g.kernel[i]! - end[i]!) * g.dilation[i]!),
  };
  return { geometry, first, end };
}

/** Offsets, within one row of the full kernel `full`, of the cropped taps in their order. */
function tapOffsets(crop: TapCrop, full: number[]): Int32Array {
  // As 3-D (leading unit dims), so one loop nest covers 1–3 spatial dims.
  const lift = (v: number[], fill: number) => [...new Array<number>(3 - v.length).fill(fill), ...v];
  const [, fh, fw] = lift(full, 1) as [number, number, number];
  const [ad, ah, aw] = lift(crop.first, 0) as [number, number, number];
  const [bd, bh, bw] = lift(crop.end, 1) as [number, number, number];
  const offs = new Int32Array(sizeOf(crop.geometry.kernel));
  let c = 0;
  for (let d = ad; d < bd; d++) {
    for (let h = ah; h < bh; h++) {
      for (let w = aw; w < bw; w++) offs[c++] = (d * fh + h) * fw + w;
    }
  }
  return offs;
}

/**
 * The cropped taps of weights `w` (`rows` rows of the full kernel `full`). For resident
 * weights the result is a resident array that the next call reuses: use it before then.
 */
export function cropWeights(crop: TapCrop, full: number[], rows: number, w: Float32Array): Float32Array {
  const offs = tapOffsets(crop, full);
  const k = offs.length;
  const fullK = sizeOf(full);
  if (wasm && k <= MAX_TAPS && wasm.rt.residentPtr(w) >= 0) {
    const part = residentPart(wasm, rows * k);
    if (part) {
      copyTaps(wasm, Copy.Gather, rows, fullK, offs, w, part);
      return part;
    }
  }
  const out = new Float32Array(rows * k);
  if (k === 1) {
    // One live tap (a 3×3 kernel over 1×1 maps): a strided gather, without the inner loop.
    for (let r = 0, src = offs[0]!; r < rows; r++, src += fullK) out[r] = w[src]!;
    return out;
  }
  for (let r = 0; r < rows; r++) {
    const src = r * fullK;
    const dst = r * k;
    for (let j = 0; j < k; j++) out[dst + j] = w[src + offs[j]!]!;
  }
  return out;
}

/**
 * A buffer for the cropped taps of a weight gradient `dw` that the convolution overwrites (its
 * contents are not read): the reused resident copy when dw is resident, else a new array. Use
 * it before the next cropWeights or cropBuffer.
 */
export function cropBuffer(crop: TapCrop, rows: number, dw: Float32Array): Float32Array {
  const k = sizeOf(crop.geometry.kernel);
  if (wasm && k <= MAX_TAPS && wasm.rt.residentPtr(dw) >= 0) {
    const part = residentPart(wasm, rows * k);
    if (part) return part;
  }
  return new Float32Array(rows * k);
}

/**
 * Writes the cropped taps `part` back into the full weights `w`; with `zeroDead`, every other
 * tap of `w` becomes zero (a weight gradient: the dropped taps would get Σ 0), in the same pass
 * over `w` — on the worker pool when both are resident.
 */
export function uncropWeights(crop: TapCrop, full: number[], rows: number, part: Float32Array, w: Float32Array, zeroDead = false): void {
  const offs = tapOffsets(crop, full);
  const k = offs.length;
  const fullK = sizeOf(full);
  if (wasm && k <= MAX_TAPS && wasm.rt.residentPtr(w) >= 0 && wasm.rt.residentPtr(part) >= 0) {
    copyTaps(wasm, zeroDead ? Copy.ScatterZeroing : Copy.Scatter, rows, fullK, offs, w, part);
    return;
  }
  if (zeroDead) w.fill(0);
  if (k === 1) {
    for (let r = 0, dst = offs[0]!; r < rows; r++, dst += fullK) w[dst] = part[r]!;
    return;
  }
  for (let r = 0; r < rows; r++) {
    const dst = r * fullK;
    const src = r * k;
    for (let j = 0; j < k; j++) w[dst + offs[j]!] = part[src + j]!;
  }
}
