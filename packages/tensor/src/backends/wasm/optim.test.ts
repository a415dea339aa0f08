import { describe, expect, it } from 'vitest';
import { kernels, setNumThreads, threadsReady, withBackend, type OptimizerStepArgs, type StateArena } from '../../backend.js';
import '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { WasmStateArena } from './heap.js';
import { wasmInfo } from './index.js';
import { rand } from './test-utils/data.js';

const bits = (a: Float32Array) => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));
/** Index of the first element whose bits differ, or -1 (fast on long arrays, unlike a deep equality). */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const x = new Int32Array(a.buffer, a.byteOffset, a.length);
  const y = new Int32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}
const bits64 = (a: Float64Array) => Array.from(new BigInt64Array(a.buffer, a.byteOffset, a.length));

/** Parameter sizes: odd lengths (the scalar tail), one empty, one larger than a few vectors. */
const SIZES = [7, 1, 0, 130, 33];
const TOTAL = SIZES.reduce((s, n) => s + n, 0);
const OFFSETS = SIZES.map((_, i) => SIZES.slice(0, i).reduce((s, n) => s + n, 0));

type Rule = OptimizerStepArgs['rule'];
type Options = Record<string, number | boolean>;

/** Every option combination each rule's kernel distinguishes (0 and non-zero, on and off). */
const COMBOS: Record<Rule, Options[]> = {
  sgd: [0, 0.9].flatMap((momentum) => [0, 0.1].flatMap((dampening) => [false, true].flatMap((nesterov) =>
    [0, 0.01].flatMap((weightDecay) => [false, true].map((maximize) => ({ momentum, dampening, nesterov, weightDecay, maximize }))))))
    .filter((o) => !(o.nesterov && (o.momentum === 0 || o.dampening !== 0))),
  rmsprop: [0, 0.9].flatMap((momentum) => [false, true].flatMap((centered) => [0, 0.05].map((weightDecay) =>
    ({ momentum, centered, weightDecay, alpha: 0.9, eps: 1e-8 })))),
  adam: [false, true].flatMap((decoupled) => [false, true].flatMap((amsgrad) => [0, 0.1].map((weightDecay) =>
    ({ decoupled, amsgrad, weightDecay, beta1: 0.9, beta2: 0.99, eps: 1e-8 })))),
};

const SLOTS: Record<Rule, (o: Options) => string[]> = {
  sgd: (o) => (o.momentum ? ['momentumBuffer'] : []),
  rmsprop: (o) => ['squareAvg', ...(o.centered ? ['gradAvg'] : []), ...(o.momentum ? ['momentumBuffer'] : [])],
  adam: (o) => ['expAvg', 'expAvgSq', ...(o.amsgrad ? ['maxExpAvgSq'] : [])],
};

/** Runs `steps` steps on the active backend; returns the final weights and state. */
function run(rule: Rule, o: Options, steps: number, skip: boolean): { w: Float32Array[]; state: Float64Array[] } {
  const k = kernels();
  const w = SIZES.map((n, i) => rand(n, 10 + i));
  const arenas: Record<string, StateArena> = {};
  for (const s of SLOTS[rule](o)) arenas[s] = k.stateArena(TOTAL);
  const counts = SIZES.map(() => 0);
  for (let t = 0; t < steps; t++) {
    // With `skip`, parameter 1 misses step 1, so its step count (and SGD's first flag) differs from the others'.
    const live = SIZES.map((_, i) => !(skip && i === 1 && t === 1));
    const groups = new Map<number, number[]>();
    live.forEach((on, i) => {
      if (!on) return;
      const key = ++counts[i]!;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    for (const [count, idx] of groups) {
      const base = {
        params: idx.map((i) => w[i]!), grads: idx.map((i) => rand(SIZES[i]!, 100 * t + i)), offsets: idx.map((i) => OFFSETS[i]!),
        lr: 0.05, weightDecay: o.weightDecay as number,
      };
      if (rule === 'sgd') {
        k.optimizerStep({
          ...base, rule, momentum: o.momentum as number, dampening: o.dampening as number, nesterov: o.nesterov as boolean,
          maximize: o.maximize as boolean, first: count === 1, momentumBuffer: arenas.momentumBuffer ?? null,
        });
      } else if (rule === 'rmsprop') {
        k.optimizerStep({
          ...base, rule, alpha: o.alpha as number, eps: o.eps as number, momentum: o.momentum as number,
          squareAvg: arenas.squareAvg!, gradAvg: arenas.gradAvg ?? null, momentumBuffer: arenas.momentumBuffer ?? null,
        });
      } else {
        k.optimizerStep({
          ...base, rule, beta1: o.beta1 as number, beta2: o.beta2 as number, eps: o.eps as number, decoupled: o.decoupled as boolean,
          step: count, expAvg: arenas.expAvg!, expAvgSq: arenas.expAvgSq!, maxExpAvgSq: arenas.maxExpAvgSq ?? null,
        });
      }
    }
  }
  const state = Object.values(arenas).map((a) => Float64Array.from(a.view(0, TOTAL)));
  for (const a of Object.values(arenas)) a.free();
  return { w, state };
}

describe('wasm optimizer kernels (state in the Wasm heap) equal the reference bit for bit', () => {
  for (const rule of ['sgd', 'rmsprop', 'adam'] as const) {
    it(`${rule}: every option combination, 4 steps, parameters missing a step, 1 and 2 threads`, () => {
      for (const o of COMBOS[rule]) {
        for (const skip of [false, true]) {
          const ref = withBackend('reference', () => run(rule, o, 4, skip));
          for (const threads of [1, 2]) {
            setNumThreads(threads);
            const got = withBackend('wasm', () => run(rule, o, 4, skip));
            const what = `${rule} ${JSON.stringify(o)} skip=${skip} threads=${threads}`;
            got.w.forEach((w, i) => expect(bits(w), `${what}: weights of parameter ${i}`).toEqual(bits(ref.w[i]!)));
            got.state.forEach((s, i) => expect(bits64(s), `${what}: state ${i}`).toEqual(bits64(ref.state[i]!)));
          }
        }
      }
      setNumThreads(1);
    });
  }

  it('large groups are split across the worker pool: the same bits on 1, 2 and 3 threads as the reference', async () => {
    // Several shares each (2^13 elements per share for RMSprop/Adam, 2^15 for SGD), odd lengths.
    const cases: [OptimizerStepArgs['rule'], number][] = [['adam', 100_001], ['rmsprop', 70_003], ['sgd', 400_001]];
    const once = (rule: OptimizerStepArgs['rule'], n: number): Float32Array[] => {
      const k = kernels();
      const w = rand(n, 5);
      const slots = [k.stateArena(n), k.stateArena(n), k.stateArena(n)];
      const out: Float32Array[] = [];
      for (let t = 1; t <= 3; t++) {
        const base = { params: [w], grads: [rand(n, 50 + t)], offsets: [0], lr: 0.01, weightDecay: 0.01 };
        if (rule === 'sgd') k.optimizerStep({ ...base, rule, momentum: 0.9, dampening: 0, nesterov: true, maximize: false, first: t === 1, momentumBuffer: slots[0]! });
        else if (rule === 'rmsprop') k.optimizerStep({ ...base, rule, alpha: 0.99, eps: 1e-8, momentum: 0.5, squareAvg: slots[0]!, gradAvg: slots[1]!, momentumBuffer: slots[2]! });
        else k.optimizerStep({ ...base, rule, beta1: 0.9, beta2: 0.999, eps: 1e-8, decoupled: true, step: t, expAvg: slots[0]!, expAvgSq: slots[1]!, maxExpAvgSq: slots[2]! });
        out.push(Float32Array.from(w));
      }
      for (const a of slots) a.free();
      return out;
    };
    for (const [rule, n] of cases) {
      const ref = withBackend('reference', () => once(rule, n));
      for (const threads of [1, 2, 3]) {
        setNumThreads(threads);
        await withBackend('wasm', () => threadsReady());
        const got = withBackend('wasm', () => once(rule, n));
        got.forEach((w, t) => expect(firstDifference(w, ref[t]!), `${rule}, ${threads} threads, step ${t + 1}`).toBe(-1));
      }
    }
    setNumThreads(1);
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(3);
    else expect(wasmInfo()!.maxThreadsUsed).toBe(1);
  });

  it('state lives in the Wasm memory; float64 parameters and JS-heap state take the reference loops', () => {
    withBackend('wasm', () => {
      const arena = kernels().stateArena(8);
      expect(arena).toBeInstanceOf(WasmStateArena);
      expect(Array.from(arena.view(0, 8))).toEqual(new Array(8).fill(0));
      // float64 parameter with Wasm state, and float32 parameter with JS state: same results as the reference.
      const w64 = Float64Array.from([1, 2, 3]);
      const w64ref = Float64Array.from(w64);
      const js = referenceKernels.stateArena(8);
      const args = (w: Float64Array | Float32Array, st: StateArena): OptimizerStepArgs => ({
        rule: 'sgd', params: [w], grads: [w instanceof Float64Array ? Float64Array.from([0.5, -1, 2]) : Float32Array.from([0.5, -1, 2])],
        offsets: [2], lr: 0.1, weightDecay: 0, momentum: 0.9, dampening: 0, nesterov: true, maximize: false, first: true, momentumBuffer: st,
      });
      kernels().optimizerStep(args(w64, arena));
      referenceKernels.optimizerStep(args(w64ref, js));
      expect(Array.from(w64)).toEqual(Array.from(w64ref));
      expect(Array.from(arena.view(2, 3))).toEqual(Array.from(js.view(2, 3)));
      const w32 = Float32Array.from([1, 2, 3]);
      const w32ref = Float32Array.from(w32);
      const js2 = referenceKernels.stateArena(8);
      kernels().optimizerStep(args(w32, js));
      referenceKernels.optimizerStep(args(w32ref, js2));
      expect(bits(w32)).toEqual(bits(w32ref));
      arena.free();
      expect(() => arena.view(0, 1)).toThrow(/optimizer state used after it was freed/);
      const small = kernels().stateArena(4);
      expect(() => small.view(2, 3)).toThrow(/StateArena.view: \[2, 5\) is outside the 4 values/);
      small.free();
    });
  });

  it('freed blocks are reused and zeroed; freeing the top block gives the bytes back to staging', () => {
    withBackend('wasm', () => {
      const a = kernels().stateArena(1000) as WasmStateArena;
      const b = kernels().stateArena(1000) as WasmStateArena;
      const c = kernels().stateArena(10) as WasmStateArena; // 80 bytes, a 128-byte block
      const aPtr = a.ptr;
      a.view(0, 1000).fill(7);
      a.free();
      const d = kernels().stateArena(500) as WasmStateArena; // first fit: a's block, split
      expect(d.ptr).toBe(aPtr);
      expect(b.ptr).toBe(aPtr + 8000);
      expect(d.view(0, 500).every((v) => v === 0)).toBe(true);
      const extent = c.heap.extent;
      c.free(); // the top block: its bytes go back to the staging area
      expect(c.heap.extent).toBe(extent - 128);
      const e = kernels().stateArena(10) as WasmStateArena; // the rest of a's block
      expect(e.ptr).toBe(aPtr + 4032);
      for (const s of [b, d, e]) s.free();
      const f = kernels().stateArena(2000) as WasmStateArena; // everything merged back into one free stretch
      expect(f.ptr).toBe(aPtr);
      f.free();
    });
  });
});
