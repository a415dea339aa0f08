/**
 * Optimizer updates on Wasm SIMD (assembly/optim.ts): the state arenas live in the Wasm heap
 * (heap.ts), and so do the weights and gradient slots of parameters an optimizer made resident
 * (`residentArrays`), which are then updated in place; other weights and gradients are staged —
 * back to back, one copy each way for the weights. One fused pass runs per run of parameters whose state is
 * contiguous (the whole group, in the common case), split across the worker pool when large.
 * The arithmetic is the reference's (backends/reference/optim.ts), in f64 and in the same order,
 * so results are equal bit for bit, whatever the thread count.
 *
 * float64 parameters, and state that lives in the JS heap (made while another backend was
 * active, or when the Wasm heap was full), take the reference kernel.
 */
import type { Kernels, OptimizerStepArgs, StateArena } from '../../backend.js';
import { residentArrays, WasmHeap, WasmStateArena } from './heap.js';
import type { WorkerPool } from './pool.js';
import { align, DESC, operandCapacity, type WasmRuntime } from './runtime.js';

/**
 * Elements per share of a threaded update (~10 µs each): SGD is a few operations per element
 * (memory-bound), RMSprop and Adam a square root and divisions in f64. Up to SHARES_PER_THREAD
 * shares per thread, which any thread may take (pool.ts), so a late worker costs nothing.
 */
const PER_SHARE = { sgd: 1 << 15, rmsprop: 1 << 13, adam: 1 << 13 };
const SHARES_PER_THREAD = 4;
const RULE = { sgd: 0, rmsprop: 1, adam: 2 };

type OptimKernels = Pick<Kernels, 'stateArena' | 'optimizerStep' | 'residentArrays'>;

/**
 * Byte address of `arrays` when they lie back to back in the Wasm memory (parameters and
 * gradient slots an optimizer made resident), so the kernel works on them in place; -1 if not.
 */
function residentRun(rt: WasmRuntime, arrays: readonly (Float32Array | Float64Array)[]): number {
  const start = rt.residentPtr(arrays[0]!);
  if (start < 0) return -1;
  let at = start;
  for (const a of arrays) {
    if (rt.residentPtr(a) !== at) return -1;
    at += a.byteLength;
  }
  return start;
}

/** The arenas a call's rule uses (null where an option leaves one out). */
function arenasOf(a: OptimizerStepArgs): (StateArena | null)[] {
  if (a.rule === 'sgd') return [a.momentumBuffer];
  if (a.rule === 'rmsprop') return [a.squareAvg, a.gradAvg, a.momentumBuffer];
  return [a.expAvg, a.expAvgSq, a.maxExpAvgSq];
}

export function makeOptim(rt: WasmRuntime, pool: WorkerPool, threads: () => number, reference: Pick<Kernels, 'stateArena' | 'optimizerStep'>): OptimKernels {
  const heap = WasmHeap.of(rt);
  const ours = (s: StateArena | null): boolean => s === null || (s instanceof WasmStateArena && s.heap === heap && s.live);
  const addr = (s: StateArena | null, offset: number): number => (s ? (s as WasmStateArena).ptr + offset * 8 : 0);

  return {
    stateArena(length) {
      const ptr = heap.alloc(length * 8);
      return ptr === null ? reference.stateArena(length) : new WasmStateArena(heap, rt, ptr, length);
    },

    residentArrays(lengths) {
      return residentArrays(heap, rt, lengths);
    },

    optimizerStep(a) {
      const count = a.params.length;
      let total = 0;
      for (let i = 0; i < count; i++) {
        if (!(a.params[i] instanceof Float32Array && a.grads[i] instanceof Float32Array)) { reference.optimizerStep(a); return; }
        total += a.params[i]!.length;
      }
      const arenas = arenasOf(a);
      if (!arenas.every(ours) || total * 8 + 128 > operandCapacity(rt)) {
        reference.optimizerStep(a);
        return;
      }
      // Weights and gradients already back to back in the Wasm memory are updated in place;
      // otherwise they are staged (and the weights copied back).
      const wResident = residentRun(rt, a.params);
      const gResident = residentRun(rt, a.grads);
      let end = rt.operandBase;
      const wPtr = wResident >= 0 ? wResident : end;
      if (wResident < 0) end = align(end + total * 4, 64);
      const gPtr = gResident >= 0 ? gResident : end;
      if (gResident < 0) end += total * 4;
      rt.ensure(end);
      const f32 = rt.f32;
      for (let i = 0, at = 0; i < count; at += a.params[i]!.length, i++) {
        if (wResident < 0) f32.set(a.params[i]!, (wPtr >> 2) + at);
        if (gResident < 0) f32.set(a.grads[i]!, (gPtr >> 2) + at);
      }
      // One kernel call per run of parameters whose state is back to back (one call for all when
      // there is no state: plain SGD).
      const stateless = arenas.every((s) => s === null);
      for (let i = 0, at = 0; i < count;) {
        const offset = a.offsets[i]!;
        let n = a.params[i]!.length;
        let j = i + 1;
        while (j < count && (stateless || a.offsets[j] === offset + n)) n += a.params[j++]!.length;
        // The task descriptor (assembly/optim.ts, optimTask): i32 words, then f64 scalars from byte 40.
        const d = rt.i32;
        const x = new Float64Array(rt.memory.buffer, DESC + 40, 10);
        const q = DESC >> 2;
        d[q] = RULE[a.rule];
        d[q + 1] = n;
        d[q + 2] = wPtr + at * 4;
        d[q + 3] = gPtr + at * 4;
        if (a.rule === 'sgd') {
          const sign = a.maximize ? -1 : 1;
          [d[q + 4], d[q + 5], d[q + 6], d[q + 7], d[q + 8]] = [addr(a.momentumBuffer, offset), 0, 0, a.nesterov ? 1 : 0, a.first ? 1 : 0];
          x.set([a.lr, sign * a.lr, sign, a.weightDecay, a.momentum, 1 - a.dampening]);
        } else if (a.rule === 'rmsprop') {
          [d[q + 4], d[q + 5], d[q + 6]] = [addr(a.squareAvg, offset), addr(a.gradAvg, offset), addr(a.momentumBuffer, offset)];
          x.set([a.lr, a.alpha, 1 - a.alpha, a.eps, a.weightDecay, a.momentum]);
        } else {
          const t = a.step;
          [d[q + 4], d[q + 5], d[q + 6], d[q + 7]] = [addr(a.expAvg, offset), addr(a.expAvgSq, offset), addr(a.maxExpAvgSq, offset), a.decoupled ? 1 : 0];
          x.set([a.beta1, a.beta2, 1 - a.beta1, 1 - a.beta2, a.lr / (1 - a.beta1 ** t), Math.sqrt(1 - a.beta2 ** t), a.eps,
            a.weightDecay, 1 - a.lr * a.weightDecay]);
        }
        const t = threads();
        pool.run('optimTask', DESC, t <= 1 ? 1 : Math.max(1, Math.min(t * SHARES_PER_THREAD, Math.floor(n / PER_SHARE[a.rule]))), t);
        at += n;
        i = j;
      }
      if (wResident >= 0) return;
      const out = rt.f32;
      for (let i = 0, at = 0; i < count; at += a.params[i]!.length, i++) {
        const p = a.params[i] as Float32Array;
        p.set(out.subarray((wPtr >> 2) + at, (wPtr >> 2) + at + p.length));
      }
    },
  };
}
