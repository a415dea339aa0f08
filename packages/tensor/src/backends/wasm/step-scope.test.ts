// A step scope's forward outputs in the Wasm heap (src/activations.ts): the same bits as JS
// arrays, every block given back when the scope ends (also when it throws), returned tensors
// valid afterwards, any other tensor made inside failing loudly, memory steady over many steps;
// keep(t) for a tensor a step stores rather than returns. (That a kept tensor the user drops is
// garbage-collected is checked in the Node-only step-scope-gc.test.ts.)
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { getNumThreads, setNumThreads, threadsReady } from '../../backend.js';
import { keep, linear, noGrad, randn, relu, stepScope, Tensor, tensor } from '../../index.js';
import { setWasmActivations, wasmActivationStats } from './index.js';
import { rand } from './test-utils/data.js';
import { bits, hidden, inWasm, live, mlp, shared, step, x } from './test-utils/mlp-step.js';

function train(scoped: boolean, on: boolean, resident: boolean, steps: number): { losses: number[]; params: number[][] } {
  setWasmActivations(on);
  const ps = mlp(resident);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push(scoped ? stepScope(() => step(ps)) : step(ps));
  return { losses, params: ps.map((p) => bits(p.dataSync())) };
}

describe('stepScope', () => {
  it('runs anywhere: without blocks its outputs are JS arrays and it only ends graphs', () => {
    setWasmActivations(false);
    const w = tensor(rand(64 * 64, 1), { shape: [64, 64], requiresGrad: true });
    const y = stepScope(() => w.matmul(w));
    expect(inWasm(y.dataSync())).toBe(false);
    expect(() => y.sum().backward()).toThrow(/released when the stepScope\(\) it was recorded in ended/);
    setWasmActivations(true);
  });

  it('keep: returns its tensor, keeps it valid without blocks too, and rejects what is not a tensor', () => {
    setWasmActivations(false);
    const w = tensor(rand(64 * 64, 1), { shape: [64, 64] });
    expect(keep(w)).toBe(w); // outside any scope
    let kept: Tensor | null = null;
    stepScope(() => { kept = keep(w.matmul(w)); });
    expect(Array.from(kept!.dataSync())).toEqual(Array.from(w.matmul(w).dataSync()));
    setWasmActivations(true);
    expect(() => keep(3 as unknown as Tensor)).toThrow('Kiln: keep: t must be a Tensor, got number 3');
    expect(() => keep(null as unknown as Tensor)).toThrow('Kiln: keep: t must be a Tensor, got null');
    expect(() => stepScope(() => keep([w] as unknown as Tensor))).toThrow(/keep: t must be a Tensor, got an array \(keep each tensor in it\)/);
  });

  it('rejects an async function', () => {
    expect(() => stepScope(() => Promise.resolve(1))).toThrow(/stepScope: fn returned a Promise/);
  });
});

if (shared) describe('stepScope on the wasm backend', () => {
  const threadsBefore = getNumThreads();
  afterEach(() => setWasmActivations(true));
  afterAll(() => setNumThreads(threadsBefore));

  for (const threads of [1, 2]) {
    it(`trains an MLP bit for bit like JS arrays and like no scope on ${threads} thread(s)`, async () => {
      setNumThreads(threads);
      await threadsReady();
      const plain = train(false, false, true, 6);
      const off = train(true, false, true, 6);
      const on = train(true, true, true, 6);
      const unresident = train(true, true, false, 6);
      for (const r of [off, on, unresident]) {
        expect(r.losses).toEqual(plain.losses);
        expect(r.params).toEqual(plain.params);
      }
      expect(live()).toBe(0);
    });
  }

  it('puts forward outputs in blocks that the next op and backward read in place', () => {
    const ps = mlp(true);
    stepScope(() => {
      const h = hidden(ps);
      expect(inWasm(h._data)).toBe(true);
      expect(live()).toBeGreaterThan(0);
      h.sum().backward();
      expect(inWasm(ps[0]!.grad!._data)).toBe(true); // the resident slot
      return null;
    });
    expect(live()).toBe(0);
  });

  it('keeps returned tensors (and every view of their blocks) valid and makes every other one fail loudly', () => {
    const ps = mlp(false);
    setWasmActivations(false);
    const expected = bits(hidden(ps).dataSync());
    setWasmActivations(true);
    let kept: Tensor | null = null;
    let view: Tensor | null = null;
    const out = stepScope(() => {
      const h = hidden(ps);
      view = h.reshape(48, 64);
      kept = h.mul(3);
      return { h, pair: [h.reshape(-1)] };
    });
    expect(live()).toBe(0);
    for (let s = 0; s < 3; s++) stepScope(() => step(ps)); // reuse the blocks
    expect(inWasm(out.h.dataSync())).toBe(false);
    expect(bits(out.h.dataSync())).toEqual(expected);
    expect(bits(out.pair[0]!.dataSync())).toEqual(expected);
    out.h.dataSync()[0] = 42; // still one buffer for the returned tensor and its view
    expect(out.pair[0]!.dataSync()[0]).toBe(42);
    expect(view!.dataSync()[0]).toBe(42); // not returned, but a view of a returned tensor's block
    expect(() => kept!.sum()).toThrow(/made inside stepScope\(\) and its memory was given back/);
    expect(() => kept!.dataSync()[0]).toThrow(/made inside stepScope\(\)/);
    expect(() => out.h.sum().backward()).toThrow(/released when the stepScope\(\)/);
  });

  it('keeps leaves that require grad made inside (a model built in the scope) and inference outputs it returns', () => {
    let w: Tensor | null = null;
    const y = stepScope(() => {
      w = randn([64, 120]).mul(0.5).requiresGrad_(); // an op output: a block
      expect(inWasm(w._data)).toBe(true);
      return noGrad(() => linear(x, w!).relu());
    });
    expect(live()).toBe(0);
    stepScope(() => step(mlp(false))); // reuse the blocks
    setWasmActivations(false);
    expect(bits(y.dataSync())).toEqual(bits(noGrad(() => linear(x, w!).relu()).dataSync()));
    expect(inWasm(w!.dataSync())).toBe(false);
  });

  it('hands out copies from dataSync() inside the scope, shared by the views', () => {
    const ps = mlp(false);
    stepScope(() => {
      const h = hidden(ps);
      const v = h.reshape(-1);
      const d = h.dataSync();
      expect(inWasm(d)).toBe(false);
      expect(v.dataSync()).toBe(d); // same array: views of one buffer
      d[1] = 7;
      expect(v.relu().dataSync()[1]).toBe(7);
    });
    expect(live()).toBe(0);
  });

  it('gives everything back when the function throws', () => {
    const ps = mlp(true);
    let made: Tensor | null = null;
    expect(() => stepScope(() => {
      made = hidden(ps);
      throw new Error('boom');
    })).toThrow('boom');
    expect(live()).toBe(0);
    expect(() => made!.sum()).toThrow(/made inside stepScope\(\)/);
  });

  it('nests: an inner scope returns its tensor to the outer one without a copy', () => {
    const ps = mlp(false);
    const expected = bits(hidden(ps).mul(2).dataSync());
    const out = stepScope(() => {
      const inner = stepScope(() => hidden(ps));
      expect(inWasm(inner._data)).toBe(true); // still in its block, now the outer scope's
      const liveInside = live();
      stepScope(() => hidden(ps).sum().item());
      expect(live()).toBe(liveInside);
      return inner.mul(2);
    });
    expect(live()).toBe(0);
    expect(bits(out.dataSync())).toEqual(expected);
  });

  it('keep: a stored tensor keeps its bits after later scopes reuse the blocks; its views stay views; its graph is cut', () => {
    const ps = mlp(false);
    setWasmActivations(false);
    const expected = bits(hidden(ps).mul(3).dataSync());
    setWasmActivations(true);
    const store: { kept?: Tensor; view?: Tensor; other?: Tensor } = {};
    stepScope(() => {
      const h = hidden(ps).mul(3);
      expect(inWasm(h._data)).toBe(true);
      store.kept = keep(h);
      store.view = h.reshape(-1); // made after keep: a view of the same block
      store.other = hidden(ps); // not kept
      expect(inWasm(store.kept._data)).toBe(true); // keep copies nothing inside the scope
      return null;
    });
    expect(live()).toBe(0);
    for (let s = 0; s < 3; s++) stepScope(() => step(ps)); // reuse the blocks
    expect(inWasm(store.kept!.dataSync())).toBe(false);
    expect(bits(store.kept!.dataSync())).toEqual(expected);
    expect(bits(store.view!.dataSync())).toEqual(expected);
    store.kept!.dataSync()[0] = 42; // one buffer for the kept tensor and its view
    expect(store.view!.dataSync()[0]).toBe(42);
    expect(() => store.other!.sum()).toThrow(/made inside stepScope\(\) and its memory was given back.*keep\(\)/);
    expect(() => store.kept!.sum().backward()).toThrow(/released when the stepScope\(\)/);
    expect(() => keep(store.other!)).toThrow(/keep: this tensor was made inside a stepScope\(\) that has already ended/);
  });

  it('keep of a view keeps its whole block: the base tensor stays valid as well', () => {
    const ps = mlp(false);
    setWasmActivations(false);
    const expected = bits(hidden(ps).dataSync());
    setWasmActivations(true);
    let base: Tensor | null = null, flat: Tensor | null = null;
    stepScope(() => {
      base = hidden(ps);
      flat = keep(base.reshape(-1)); // a view of the block
      expect(flat._data.buffer).toBe(base._data.buffer);
    });
    for (let s = 0; s < 3; s++) stepScope(() => step(ps));
    expect(inWasm(flat!.dataSync())).toBe(false);
    expect(bits(flat!.dataSync())).toEqual(expected);
    expect(bits(base!.dataSync())).toEqual(expected);
    base!.dataSync()[5] = 7;
    expect(flat!.dataSync()[5]).toBe(7);
  });

  it('keep in nested scopes: the block moves up without a copy and leaves the outermost one as a JS copy', () => {
    const ps = mlp(false);
    setWasmActivations(false);
    const expectedInner = bits(hidden(ps).dataSync());
    const expectedOuter = bits(hidden(ps).mul(2).dataSync());
    setWasmActivations(true);
    let inner: Tensor | null = null, outer: Tensor | null = null;
    stepScope(() => {
      outer = hidden(ps).mul(2);
      stepScope(() => {
        inner = keep(hidden(ps));
        keep(outer!); // made by the enclosing scope
      });
      expect(inWasm(inner!._data)).toBe(true); // now the outer scope's block
      stepScope(() => step(ps)); // must not reuse it
      expect(bits(inner!.dataSync())).toEqual(expectedInner); // dataSync moves it out
      return null;
    });
    expect(live()).toBe(0);
    for (let s = 0; s < 2; s++) stepScope(() => step(mlp(false)));
    expect(bits(inner!.dataSync())).toEqual(expectedInner);
    expect(bits(outer!.dataSync())).toEqual(expectedOuter);
  });

  it('holds the heap steady over 2,000 scoped MLP steps', () => {
    const ps = mlp(true);
    for (let s = 0; s < 20; s++) stepScope(() => step(ps));
    const warm = wasmActivationStats()!;
    for (let s = 0; s < 2000; s++) {
      stepScope(() => step(ps));
      const now = wasmActivationStats()!;
      expect(now.liveBlocks).toBe(0);
      expect(now.cachedBlocks).toBe(warm.cachedBlocks);
      expect(now.cachedBytes).toBe(warm.cachedBytes);
      expect(now.heapBytes).toBe(warm.heapBytes);
    }
  }, 120_000);
});
