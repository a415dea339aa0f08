/**
 * Loads the WebAssembly kernels once: probes SIMD, relaxed SIMD and shared memory, compiles the
 * best build and owns its memory.
 *
 * Memory layout (bytes): [0, 4 KiB) is left alone (null page), the GEMM task descriptor and the
 * worker pool's control words sit in [4 KiB, 8 KiB), per-thread packing scratch starts at 64 KiB,
 * and operands are staged above it. A shared memory never detaches its old buffers when it
 * grows, so views of it stay valid; a plain one does, so views are re-made after every grow.
 */
import * as builds from './generated/kernels.js';

/**
 * A task the worker pool runs (pool.ts): share `share` of `shares` of the work described at
 * byte `desc`, on thread `thread` (0 is the caller; kernels that keep per-thread scratch may
 * index it by either, see pool.ts).
 */
export type TaskKernel = (desc: number, share: number, shares: number, thread: number) => void;

export interface KernelExports {
  gemmTask: TaskKernel;
  convTask: TaskKernel;
  depthwiseTask: TaskKernel;
  lstmForwardTask: TaskKernel;
  lstmBackwardTask: TaskKernel;
  poolTask: TaskKernel;
  reluF32(x: number, out: number, n: number): void;
  reluGradF32(dy: number, x: number, out: number, n: number): void;
  optimTask: TaskKernel;
  columnSumTask: TaskKernel;
  channelTask: TaskKernel;
  tapsTask: TaskKernel;
  softmaxTask: TaskKernel;
  layerNormTask: TaskKernel;
  indexRowsTask: TaskKernel;
  stridedCopyTask: TaskKernel;
  gemvTask: TaskKernel;
  scratchBytes(): number;
}

/** Byte offset of the task descriptor (up to 64 i32 words). */
export const DESC = 4096;
/** Byte offset of the worker pool's control words (see pool.ts). */
export const CTRL = 4096 + 512;
/** Threads the scratch area is laid out for; more are clamped to this. */
export const MAX_THREADS = 16;
/** Byte offset of the first thread's packing scratch. */
export const SCRATCH = 65536;
const PAGE = 65536;

export interface WasmRuntime {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  /** True when the memory is shared, so worker threads can join. */
  readonly shared: boolean;
  /** True for the relaxed-SIMD (fused multiply-add) build. */
  readonly relaxed: boolean;
  /** Bytes of packing scratch per thread. */
  readonly scratchPerThread: number;
  /**
   * First byte free for operands (staged per call). Long-lived storage (optimizer state, see
   * heap.ts) sits below it and moves it up; read it at each call, never keep it.
   */
  operandBase: number;
  /** A Float32Array over the whole memory, valid until the next `ensure`. */
  f32: Float32Array;
  i32: Int32Array;
  /** Grows the memory so bytes [0, end) exist; refreshes the views. */
  ensure(end: number): void;
  /** Copies `count` 4-byte values from byte `ptr` of the memory into `dst`, starting at index `at`. */
  copyOut(ptr: number, count: number, dst: Float32Array | Int32Array, at?: number): void;
  /**
   * Byte address of `a[0]` when `a` is a view of this memory (resident storage, see heap.ts),
   * so a kernel can read and write it in place; -1 for any other array.
   */
  residentPtr(a: Float32Array | Float64Array | Int32Array): number;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/**
 * Node 20's V8 ships relaxed SIMD behind a flag that is safe to turn on at run time (it only
 * admits more Wasm instructions); later V8s, Deno and Bun have it on. Set KILN_WASM_RELAXED=0 to
 * keep the plain SIMD build.
 */
/** An environment variable where the runtime has `process.env` (Node, Bun, Deno); undefined in browsers. */
export function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

function relaxedAvailable(bytes: Uint8Array<ArrayBuffer>): boolean {
  if (env('KILN_WASM_RELAXED') === '0') return false;
  if (WebAssembly.validate(bytes)) return true;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } } }).process;
  if (!proc?.versions?.node || typeof proc.getBuiltinModule !== 'function') return false;
  try {
    const v8 = proc.getBuiltinModule('node:v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
    v8?.setFlagsFromString?.('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(bytes);
}

/** Shared memory (threads); KILN_WASM_SHARED=0 takes the single-threaded build pages without cross-origin isolation get. */
function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || env('KILN_WASM_SHARED') === '0') return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Compiles and instantiates the best build for this runtime, or returns null without Wasm SIMD. */
export function loadRuntime(): WasmRuntime | null {
  if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
  const shared = sharedMemoryAvailable();
  const simdBytes = decode(shared ? builds.simd : builds.simdUnshared);
  if (!WebAssembly.validate(simdBytes)) return null;
  const relaxedBytes = decode(shared ? builds.relaxed : builds.relaxedUnshared);
  const relaxed = relaxedAvailable(relaxedBytes);
  let module: WebAssembly.Module;
  try {
    // Synchronous compilation: the modules are a few KiB, under every engine's main-thread limit.
    module = new WebAssembly.Module(relaxed ? relaxedBytes : simdBytes);
  } catch {
    return null;
  }
  const memory = new WebAssembly.Memory({ initial: 256, maximum: builds.maximumPages, shared });
  const instance = new WebAssembly.Instance(module, { env: { memory, abort: wasmAbort } });
  const exports = instance.exports as unknown as KernelExports;
  const scratchPerThread = align(exports.scratchBytes(), 64);
  // Every buffer object the memory has handed out: a shared memory gives a new (longer) one after
  // each grow, and views made before it keep the old one.
  const buffers = new WeakSet<ArrayBufferLike>([memory.buffer]);
  const rt: WasmRuntime = {
    module, memory, exports, shared, relaxed, scratchPerThread,
    operandBase: SCRATCH + scratchPerThread * MAX_THREADS,
    f32: new Float32Array(memory.buffer),
    i32: new Int32Array(memory.buffer),
    ensure(end: number) {
      const have = memory.buffer.byteLength;
      if (end > have) {
        const pages = Math.ceil((end - have) / PAGE);
        if (have / PAGE + pages > builds.maximumPages) {
          throw new Error(`Kiln: wasm backend: operands need ${end} bytes, more than the ${builds.maximumPages * PAGE}-byte Wasm memory`);
        }
        memory.grow(pages);
        buffers.add(memory.buffer);
      }
      if (rt.f32.buffer !== memory.buffer || rt.f32.length * 4 !== memory.buffer.byteLength) {
        rt.f32 = new Float32Array(memory.buffer);
        rt.i32 = new Int32Array(memory.buffer);
      }
    },
    copyOut(ptr: number, count: number, dst: Float32Array | Int32Array, at = 0) {
      const view = dst instanceof Float32Array ? rt.f32 : rt.i32;
      dst.set(view.subarray(ptr >> 2, (ptr >> 2) + count), at);
    },
    residentPtr(a) {
      return buffers.has(a.buffer) ? a.byteOffset : -1;
    },
  };
  rt.ensure(rt.operandBase);
  return rt;
}

export function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Largest number of bytes of operands one staged call may use (what the memory can still hold). */
export function operandCapacity(rt: WasmRuntime): number {
  return builds.maximumPages * PAGE - rt.operandBase;
}

function wasmAbort(): never {
  throw new Error('Kiln: wasm backend: a kernel aborted');
}

/** The build, for diagnostics: `simd` or `relaxed-simd`, threaded or not. */
export function describeRuntime(rt: WasmRuntime): string {
  return `${rt.relaxed ? 'relaxed-simd' : 'simd'}${rt.shared ? '+threads' : ''}`;
}
