/**
 * The wasm backend: WebAssembly SIMD kernels (relaxed-SIMD FMA where the engine has it) for the
 * compute-bound work — GEMM (matmul, linear) and convolution forward and backward, with im2col
 * and col2im done inside Wasm memory —, threaded over shared memory,
 * plus specialised TypeScript loops for the memory-bound kernels, where copying into Wasm
 * memory and back would cost as much as the work. Everything else falls back to the reference.
 *
 * It registers itself as `wasm` and becomes the active backend wherever Wasm SIMD exists,
 * unless the environment variable KILN_BACKEND names another one.
 */
import { registerBackend, setBackend, type Backend } from '../../backend.js';
import { fastKernels } from './fast/index.js';
import { makeChannel } from './channel.js';
import { makeConv } from './conv.js';
import { useWasmTaps } from './conv-taps.js';
import { makeGemm } from './gemm.js';
import { makeMaxPool } from './max-pool.js';
import { makeArith } from './arith.js';
import { makeColumnSums } from './column-sums.js';
import { makeRelu } from './relu.js';
import { makeRecurrent } from './recurrent.js';
import { makeOptim } from './optim.js';
import { makeSoftmax } from './softmax.js';
import { makeLayerNorm } from './layer-norm.js';
import { makeIndexRows } from './index-rows.js';
import { makeStridedCopy } from './strided-copy.js';
import { referenceKernels } from '../reference/index.js';
import { WorkerPool } from './pool.js';
import { describeRuntime, env, loadRuntime, MAX_THREADS } from './runtime.js';
import { ActivationPool, type ActivationStats } from './activations.js';
import { WasmHeap } from './heap.js';

function hardwareThreads(): number {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  const n = g.navigator?.hardwareConcurrency;
  if (typeof n === 'number' && n > 0) return n;
  const os = g.process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  return os?.availableParallelism?.() ?? 1;
}

export interface WasmInfo {
  /** The build in use: `simd` or `relaxed-simd` (fused multiply-add), `+threads` with shared memory. */
  build: string;
  /** The most threads a kernel has run on so far in this process. */
  maxThreadsUsed: number;
}

let info: (() => WasmInfo) | null = null;

/** The backend's worker pool (null without Wasm SIMD); internal, for tests of the pool itself. */
export let wasmPool: WorkerPool | null = null;

let activations: ActivationPool | null = null;
/** Off (KILN_WASM_ACTIVATIONS=0, or setWasmActivations(false)): backward outputs are JS arrays as before. */
let activationsOn = env('KILN_WASM_ACTIVATIONS') !== '0';

/**
 * Internal, for tests and A/B measurements: whether backward passes keep their gradients and
 * temporaries in the Wasm heap (src/activations.ts). Takes effect at the next allocation.
 */
export function setWasmActivations(on: boolean): void {
  activationsOn = on;
}

/** Internal, for tests: the activation blocks in use and cached (null without shared memory). */
export function wasmActivationStats(): ActivationStats | null {
  return activations ? activations.stats() : null;
}

/** What the wasm backend runs on, or null where WebAssembly SIMD is missing (the reference is used). */
export function wasmInfo(): WasmInfo | null {
  return info ? info() : null;
}

const rt = loadRuntime();
if (rt) {
  const pool = new WorkerPool(rt);
  wasmPool = pool;
  const limit = pool.canThread ? MAX_THREADS : 1;
  let threads = Math.max(1, Math.min(hardwareThreads(), limit));
  useWasmTaps(rt, pool, () => threads);
  // Only a shared memory keeps its views valid when it grows (runtime.ts).
  const blocks = rt.shared ? new ActivationPool(WasmHeap.of(rt), rt) : null;
  activations = blocks;
  const backend: Backend = {
    name: 'wasm',
    kernels: {
      ...fastKernels,
      gemm: makeGemm(rt, pool, () => threads),
      ...makeConv(rt, pool, () => threads),
      ...makeChannel(rt, pool, () => threads, referenceKernels),
      ...makeMaxPool(rt, pool, () => threads, { maxPool: fastKernels.maxPool!, maxPoolBackward: referenceKernels.maxPoolBackward }),
      ...makeArith(rt, makeRelu(rt, { unary: fastKernels.unary!, binary: fastKernels.binary! })),
      ...makeRecurrent(rt, pool, () => threads, referenceKernels),
      ...makeOptim(rt, pool, () => threads, referenceKernels),
      ...makeSoftmax(rt, pool, () => threads, referenceKernels),
      ...makeLayerNorm(rt, pool, () => threads, referenceKernels),
      ...makeIndexRows(rt, pool, () => threads, { indexSelect: fastKernels.indexSelect!, indexAdd: fastKernels.indexAdd! }),
      ...makeStridedCopy(rt, pool, () => threads, { stridedCopy: fastKernels.stridedCopy! }),
      ...makeColumnSums(rt, pool, () => threads, { reduce: fastKernels.reduce! }),
      ...(blocks && {
        takeActivation: (length: number, zero: boolean) => (activationsOn ? blocks.take(length, zero) : null),
        releaseActivation: (array: Float32Array) => blocks.give(array),
      }),
    },
    setNumThreads(n: number) {
      threads = Math.min(n, limit);
    },
    getNumThreads: () => threads,
    threadsReady: () => pool.ready(threads),
  };
  const build = describeRuntime(rt);
  info = () => ({ build, maxThreadsUsed: pool.maxThreadsUsed });
  registerBackend(backend);
  const chosen = env('KILN_BACKEND');
  if (chosen === undefined || chosen === '' || chosen === 'wasm') setBackend('wasm');
  else if (chosen !== 'reference') setBackend(chosen);
}
