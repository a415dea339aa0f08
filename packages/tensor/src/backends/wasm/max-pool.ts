/**
 * Max pooling on Wasm (see assembly/pool.ts). The 2×2, stride-2, unpadded window runs in SIMD
 * forward and backward (four windows at once, without branches: JavaScript's per-element
 * compares mispredict on real data); any other 2-D window's forward (ResNet's 3×3, stride 2,
 * padding 1) runs in Wasm too, four whole windows per vector where the width stride is 1 or 2,
 * and every other window's backward scatters through the saved indices in Wasm. 1-D and 3-D
 * forwards use the given fallback. Large inputs are split by plane across the worker pool;
 * every plane is computed the same way on any thread, so results do not depend on the thread
 * count.
 */
import type { Kernels, WindowGeometry } from '../../backend.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, operandCapacity, type WasmRuntime } from './runtime.js';

type MaxPoolKernels = Pick<Kernels, 'maxPool' | 'maxPoolBackward'>;

/**
 * Elements (inputs + outputs) per share of a threaded pass, and shares per thread (any thread
 * may take any share, pool.ts, so a late worker costs nothing).
 */
const WORK_PER_SHARE = 1 << 15;
const SHARES_PER_THREAD = 4;

const enum Mode {
  Forward2x2 = 0,
  Backward2x2 = 1,
  BackwardScatter = 2,
  /** The forward without indices (inference). */
  ForwardValues2x2 = 3,
  /** Any 2-D window's forward (indices written to the memory, copied out when asked for). */
  ForwardWindow = 4,
}

function isPlain2x2(g: WindowGeometry): boolean {
  return g.inSize.length === 2 && g.kernel.every((k) => k === 2) && g.stride.every((s) => s === 2)
    && g.dilation.every((d) => d === 1) && g.padBegin.every((p) => p === 0) && g.padEnd.every((p) => p === 0)
    && g.outSize.every((o, i) => 2 * o <= g.inSize[i]!);
}

/** The windows of forwardWindow: any 2-D geometry. */
function isWindow2d(g: WindowGeometry): boolean {
  return g.inSize.length === 2;
}

export function makeMaxPool(rt: WasmRuntime, pool: WorkerPool, threads: () => number, fallback: MaxPoolKernels): MaxPoolKernels {
  /**
   * Stages `a` (x or dx: the input-sized array) and `b`, `idx` (output-sized) where they are not
   * already in the Wasm memory, and runs `mode` over all planes; false when they do not fit.
   */
  const run = (mode: Mode, g: WindowGeometry, a: Float32Array, b: Float32Array, idx: Int32Array | null): boolean => {
    const planes = g.batch * g.channels;
    const inPlane = g.inSize.reduce((p, s) => p * s, 1);
    const L = g.outSize.reduce((p, s) => p * s, 1);
    if (planes === 0 || L === 0) return false;
    // Arrays already in the Wasm memory (a step's activations, the backward pass's dy and dx)
    // are read and written in place; the others are staged after the operand base.
    let end = rt.operandBase;
    const reserve = (length: number): number => {
      const ptr = end;
      end = align(ptr + length * 4, 64);
      return ptr;
    };
    const aIn = rt.residentPtr(a);
    const bIn = rt.residentPtr(b);
    const idxIn = idx ? rt.residentPtr(idx) : -1;
    const aPtr = aIn >= 0 ? aIn : reserve(a.length);
    const bPtr = bIn >= 0 ? bIn : reserve(b.length);
    // The window forward writes indices whether or not they are asked for.
    const idxPtr = idxIn >= 0 ? idxIn : idx || mode === Mode.ForwardWindow ? reserve(b.length) : 0;
    if (end - rt.operandBase > operandCapacity(rt)) return false;
    rt.ensure(end);
    // Resident arrays lie below the operand base (heap.ts), staged ones at or above it.
    const staged = (p: number): boolean => p >= rt.operandBase;
    const forward = mode === Mode.Forward2x2 || mode === Mode.ForwardValues2x2 || mode === Mode.ForwardWindow;
    if (forward) {
      if (staged(aPtr)) rt.f32.set(a, aPtr >> 2);
    } else {
      if (staged(bPtr)) rt.f32.set(b, bPtr >> 2);
      if (staged(idxPtr)) rt.i32.set(idx!, idxPtr >> 2);
    }
    const [H, W] = mode === Mode.BackwardScatter ? [1, inPlane] : (g.inSize as [number, number]);
    const [OH, OW] = mode === Mode.BackwardScatter ? [1, L] : (g.outSize as [number, number]);
    rt.i32.set([mode, planes, H, W, OH, OW, aPtr, bPtr, idxPtr, ...g.kernel, ...g.stride, ...g.padBegin, ...g.dilation], DESC >> 2);
    const t = threads();
    const shares = t <= 1 ? 1 : Math.max(1, Math.min(t * SHARES_PER_THREAD, planes, Math.floor((a.length + b.length) / WORK_PER_SHARE)));
    pool.run('poolTask', DESC, shares, t);
    if (forward) {
      if (staged(bPtr)) rt.copyOut(bPtr, b.length, b);
      if (idx && staged(idxPtr)) rt.copyOut(idxPtr, idx.length, idx);
    } else if (staged(aPtr)) {
      rt.copyOut(aPtr, a.length, a);
    }
    return true;
  };

  return {
    maxPool(x, g, out, indices) {
      const ok = x instanceof Float32Array && out instanceof Float32Array && (isPlain2x2(g)
        ? run(indices ? Mode.Forward2x2 : Mode.ForwardValues2x2, g, x, out, indices)
        : isWindow2d(g) && run(Mode.ForwardWindow, g, x, out, indices));
      if (!ok) fallback.maxPool(x, g, out, indices);
    },
    // The kernels write dx whole (the 2×2 pass every element, the scatter zeroes each plane
    // first), as the interface asks: what it held is never read.
    maxPoolBackward(dy, indices, g, dx) {
      const ok = dy instanceof Float32Array && dx instanceof Float32Array
        && run(isPlain2x2(g) ? Mode.Backward2x2 : Mode.BackwardScatter, g, dx, dy, indices);
      if (!ok) fallback.maxPoolBackward(dy, indices, g, dx);
    },
  };
}
