/**
 * GEMM on the Wasm kernels: operands are staged into the Wasm memory (packed there by the
 * kernel, so transposes are free), the task runs on the worker pool, C is copied back. Operands
 * that live in the Wasm memory already (resident parameters, gradient slots) are used in place.
 *
 * Staging costs O(mk + kn + mn) copies against O(mnk) multiply-adds, so tiny products stay on
 * the reference loops. float64 GEMMs (gradient checks) also stay there.
 */
import type { GemmArgs } from '../../backend.js';
import { gemm as referenceGemm } from '../reference/gemm.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, MAX_THREADS, operandCapacity, SCRATCH, type WasmRuntime } from './runtime.js';

/** Multiply-adds below which staging costs more than the kernel saves. */
const MIN_WORK = 2048;
/**
 * Multiply-adds per share of a threaded product (~10 µs of kernel time): a share must pay for
 * its duplicated packing (each column share packs all of A) and the hand-off, a few atomic
 * operations.
 */
const WORK_PER_SHARE = 1 << 18;
/**
 * Shares per thread: a thread that starts late, or is descheduled, leaves its shares to the
 * others. Each column share packs all of A again (each row share all of B): on one thread, a
 * 64×784×256 product in 2 / 4 / 8 shares took 0 / 0–5 / 4–10 % more CPU than in one.
 */
const SHARES_PER_THREAD = 2;
/**
 * Multiply-adds per share of a threaded matrix-vector product: each weight is read once, so a
 * share is memory-bound — 2^16 of them (256 KB of B) take ~10 µs.
 */
const GEMV_WORK_PER_SHARE = 1 << 16;

type Gemm = (g: GemmArgs) => void;

/** Copies `count` blocks of `size` floats, block t from src[offset + t·stride], to dst[at...] back to back. */
function stageBlocks(dst: Float32Array, at: number, src: Float32Array, offset: number, stride: number, size: number, count: number): void {
  if (stride === size || count === 1) {
    dst.set(src.subarray(offset, offset + size * count), at);
    return;
  }
  for (let t = 0; t < count; t++) dst.set(src.subarray(offset + t * stride, offset + t * stride + size), at + t * size);
}

/**
 * Byte address of `count` blocks of `size` floats from `src[offset]` with batch stride `stride`
 * when `src` is a view of the Wasm memory and the blocks are back to back; -1 otherwise.
 */
function inPlace(rt: WasmRuntime, src: Float32Array, offset: number, stride: number, size: number, count: number): number {
  const p = rt.residentPtr(src);
  return p >= 0 && (count === 1 || stride === size) ? p + offset * 4 : -1;
}

/**
 * A batched GEMM on operands already in the Wasm memory (the task descriptor of gemmTask): byte
 * pointers a, b, c; element strides (row, column) of A and B, C's row stride ldc, batch strides.
 */
export interface GemmTask {
  batch: number;
  m: number;
  n: number;
  k: number;
  a: number;
  rsA: number;
  csA: number;
  aBatch: number;
  b: number;
  rsB: number;
  csB: number;
  bBatch: number;
  c: number;
  ldc: number;
  cBatch: number;
  accumulate: boolean;
  /** Byte pointer of n values added to every row of C before the product (0 or absent: none). */
  bias?: number;
}

/**
 * Runs `g` on the pool: on one thread in one share when `threads` is 1 or the product is small,
 * else in up to SHARES_PER_THREAD shares per thread, which any thread may take (pool.ts). A
 * product whose A has one row (batch-1 inference, an RNN cell on one sequence) runs as a
 * matrix-vector product (assembly/gemv.ts), reading B where it lies instead of packing it.
 */
export function launch(rt: WasmRuntime, pool: WorkerPool, threads: number, g: GemmTask): void {
  const d = rt.i32;
  const w = DESC >> 2;
  const words = [g.batch, g.m, g.n, g.k, g.a, g.rsA, g.csA, g.aBatch, g.b, g.rsB, g.csB, g.bBatch, g.c, g.ldc, g.cBatch, g.accumulate ? 1 : 0,
    SCRATCH, rt.scratchPerThread, g.bias ?? 0];
  for (let i = 0; i < words.length; i++) d[w + i] = words[i]!;
  const work = g.batch * g.m * g.n * g.k;
  if (g.m === 1 && g.csA === 1 && (g.rsB === 1 || g.csB === 1)) {
    const blocks = g.batch > 1 ? g.batch : Math.ceil(g.n / 16);
    const shares = threads <= 1 ? 1 : Math.max(1, Math.min(threads * SHARES_PER_THREAD, MAX_THREADS, blocks, Math.floor(work / GEMV_WORK_PER_SHARE)));
    pool.run('gemvTask', DESC, shares, threads);
    return;
  }
  const tiles = g.batch > 1 ? g.batch : g.n >= g.m ? Math.ceil(g.n / 8) : Math.ceil(g.m / 4);
  const shares = threads <= 1 ? 1 : Math.max(1, Math.min(threads * SHARES_PER_THREAD, MAX_THREADS, tiles, Math.floor(work / WORK_PER_SHARE)));
  pool.run('gemmTask', DESC, shares, threads);
}

export function makeGemm(rt: WasmRuntime, pool: WorkerPool, threads: () => number): Gemm {
  const run = (g: GemmArgs, t0: number, nb: number): void => {
    const { m, n, k } = g;
    const a = g.a as Float32Array;
    const b = g.b as Float32Array;
    const c = g.c as Float32Array;
    const aSize = m * k;
    const bSize = k * n;
    const cSize = m * n;
    const aItems = g.aBatchStride === 0 ? 1 : nb;
    const bItems = g.bBatchStride === 0 ? 1 : nb;
    // Operands already in the Wasm memory (resident parameters and gradient slots) are used in
    // place when their batch items are back to back; the rest are staged above operandBase.
    const aIn = inPlace(rt, a, g.aOffset + t0 * g.aBatchStride, g.aBatchStride, aSize, aItems);
    const bIn = inPlace(rt, b, g.bOffset + t0 * g.bBatchStride, g.bBatchStride, bSize, bItems);
    const cIn = inPlace(rt, c, g.cOffset + t0 * g.cBatchStride, g.cBatchStride, cSize, nb);
    const bias = g.accumulate ? null : (g.bias as Float32Array | null | undefined) ?? null;
    const biasIn = bias ? inPlace(rt, bias, 0, 0, n, 1) : -1;
    let end = rt.operandBase;
    const biasPtr = !bias ? 0 : biasIn >= 0 ? biasIn : end;
    if (bias && biasIn < 0) end = align(end + n * 4, 64);
    const aPtr = aIn >= 0 ? aIn : end;
    if (aIn < 0) end = align(end + aItems * aSize * 4, 64);
    const bPtr = bIn >= 0 ? bIn : end;
    if (bIn < 0) end = align(end + bItems * bSize * 4, 64);
    const cPtr = cIn >= 0 ? cIn : end;
    if (cIn < 0) end += nb * cSize * 4;
    rt.ensure(end);
    const f32 = rt.f32;
    if (bias && biasIn < 0) f32.set(bias.subarray(0, n), biasPtr >> 2);
    if (aIn < 0) stageBlocks(f32, aPtr >> 2, a, g.aOffset + t0 * g.aBatchStride, g.aBatchStride, aSize, aItems);
    if (bIn < 0) stageBlocks(f32, bPtr >> 2, b, g.bOffset + t0 * g.bBatchStride, g.bBatchStride, bSize, bItems);
    if (g.accumulate && cIn < 0) {
      for (let t = 0; t < nb; t++) {
        const o = g.cOffset + (t0 + t) * g.cBatchStride;
        f32.set(c.subarray(o, o + cSize), (cPtr >> 2) + t * cSize);
      }
    }
    launch(rt, pool, threads(), {
      batch: nb, m, n, k, a: aPtr, rsA: g.transA ? 1 : k, csA: g.transA ? m : 1, aBatch: aItems === 1 ? 0 : aSize,
      b: bPtr, rsB: g.transB ? 1 : n, csB: g.transB ? k : 1, bBatch: bItems === 1 ? 0 : bSize,
      c: cPtr, ldc: n, cBatch: cSize, accumulate: g.accumulate, bias: biasPtr,
    });
    if (cIn >= 0) return;
    const out = rt.f32.subarray(cPtr >> 2, (cPtr >> 2) + nb * cSize);
    if (g.cBatchStride === cSize || nb === 1) {
      c.set(out, g.cOffset + t0 * g.cBatchStride);
    } else {
      for (let t = 0; t < nb; t++) c.set(out.subarray(t * cSize, (t + 1) * cSize), g.cOffset + (t0 + t) * g.cBatchStride);
    }
  };

  return function gemm(g: GemmArgs): void {
    const { batch, m, n, k } = g;
    if (batch === 0 || m === 0 || n === 0) return;
    if (!(g.a instanceof Float32Array && g.b instanceof Float32Array && g.c instanceof Float32Array) || k === 0 || m * n * k < MIN_WORK
      || (g.bias && !(g.bias instanceof Float32Array && g.bias.length >= n))) {
      referenceGemm(g);
      return;
    }
    // Stage as many batch items at a time as the memory holds.
    const shared = (g.aBatchStride === 0 ? m * k : 0) + (g.bBatchStride === 0 ? k * n : 0) + n;
    const perItem = (g.aBatchStride === 0 ? 0 : m * k) + (g.bBatchStride === 0 ? 0 : k * n) + m * n;
    const room = Math.floor(operandCapacity(rt) / 4) - shared - 64;
    if (room < perItem) {
      // One product larger than the Wasm memory (1 GiB): the reference loops still work.
      referenceGemm(g);
      return;
    }
    const chunk = Math.min(batch, Math.floor(room / perItem));
    for (let t0 = 0; t0 < batch; t0 += chunk) run(g, t0, Math.min(chunk, batch - t0));
  };
}
