// A backward pass's gradients and temporaries in the Wasm heap (src/activations.ts,
// backends/wasm/activations.ts): the same bits as JS arrays, every block given back by the end
// of the pass, none reachable from user code, and memory steady over a long synchronous loop.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { getNumThreads, kernels, setNumThreads, threadsReady, withBackend } from '../../backend.js';
import { linear, noGrad, relu, Tensor, tensor } from '../../index.js';
import { ActivationPool, sizeClass } from './activations.js';
import type { WasmHeap } from './heap.js';
import { setWasmActivations, wasmActivationStats } from './index.js';
import { rand } from './test-utils/data.js';
import { bits, inWasm, lossOf, mlp, shared, step, x } from './test-utils/mlp-step.js';

function train(on: boolean, resident: boolean, steps: number): { losses: number[]; params: number[][] } {
  setWasmActivations(on);
  const ps = mlp(resident);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) losses.push(step(ps));
  return { losses, params: ps.map((p) => bits(p.dataSync())) };
}

if (!shared) {
  describe('wasm backend without shared memory', () => {
    it('keeps every backward output in JS arrays: takeActivation is absent', () => {
      expect(kernels().takeActivation).toBeUndefined();
      expect(wasmActivationStats()).toBeNull();
    });
  });
} else describe('wasm backend: activations of the backward pass', () => {
  const threadsBefore = getNumThreads();
  afterEach(() => setWasmActivations(true));
  afterAll(() => setNumThreads(threadsBefore));

  for (const threads of [1, 2]) {
    for (const resident of [false, true]) {
      it(`train an MLP bit for bit like JS arrays on ${threads} thread(s) (${resident ? 'resident' : 'plain'} parameters)`, async () => {
        setNumThreads(threads);
        await threadsReady();
        const off = train(false, resident, 6);
        const before = wasmActivationStats()!.cachedBlocks;
        const on = train(true, resident, 6);
        expect(on.losses).toEqual(off.losses);
        expect(on.params).toEqual(off.params);
        const stats = wasmActivationStats()!;
        expect(stats.liveBlocks).toBe(0); // all given back by the end of each pass
        expect(stats.cachedBlocks).toBeGreaterThan(before === 0 ? 0 : before - 1); // and some were used
      });
    }
  }

  it('never lets a block reach user code: .grad, retained grads and dataSync() are JS arrays that later passes leave alone', () => {
    const ps = mlp(false);
    const [w1, b1] = ps as [Tensor, Tensor];
    const h = linear(x, w1, b1).retainGrad(); // a saved tensor the user also holds
    const loss = relu(h).square().mean();
    loss.backward();
    const held = [w1.grad!, h.grad!];
    const heldData = held.map((g) => g.dataSync());
    for (const d of heldData) expect(inWasm(d)).toBe(false);
    const snapshot = heldData.map((d) => bits(d));
    const hValues = bits(h.dataSync());
    for (let s = 0; s < 5; s++) step(ps); // passes that reuse the blocks
    expect(heldData.map((d) => bits(d))).toEqual(snapshot);
    expect(bits(h.dataSync())).toEqual(hValues);
    expect(wasmActivationStats()!.liveBlocks).toBe(0);
  });

  it('runs a retained graph twice, through views and a tensor used twice, like JS arrays', () => {
    const run = (on: boolean): number[][] => {
      setWasmActivations(on);
      const w = tensor(rand(96 * 80, 3), { shape: [96, 80], requiresGrad: true });
      const a = tensor(rand(80 * 64, 4), { shape: [80, 64], requiresGrad: true });
      const y = w.matmul(a); // [96, 64]
      const v = y.reshape(64, 96).relu().reshape(96, 64); // views of activations on both sides
      const z = v.add(v).mul(y).add(y.sigmoid()); // y used three times: its gradient accumulates
      const out: number[][] = [];
      z.sum().backward(undefined, { retainGraph: true });
      out.push(bits(w.grad!.dataSync()), bits(a.grad!.dataSync()));
      z.square().mean().backward(); // through the retained graph again, accumulating into .grad
      out.push(bits(w.grad!.dataSync()), bits(a.grad!.dataSync()));
      expect(inWasm(w.grad!.dataSync())).toBe(false);
      return out;
    };
    expect(run(true)).toEqual(run(false));
    expect(wasmActivationStats()!.liveBlocks).toBe(0);
  });

  it('keeps a tensor across steps: a gradient from an earlier step and a graph backpropagated later', () => {
    const ps = mlp(true);
    step(ps);
    const kept = ps[0]!.grad!.clone(); // held across steps, as PyTorch users do
    const keptBits = bits(kept.dataSync());
    const later = mlp(false);
    const lossLater = lossOf(later); // built now, backpropagated after other passes reused the blocks
    for (let s = 0; s < 3; s++) step(ps);
    expect(bits(kept.dataSync())).toEqual(keptBits);
    lossLater.backward();
    setWasmActivations(false);
    const expected = mlp(false);
    lossOf(expected).backward();
    expect(later.map((p) => bits(p.grad!.dataSync()))).toEqual(expected.map((p) => bits(p.grad!.dataSync())));
  });

  it('gives every block back when a backward pass throws', () => {
    const w = tensor(rand(64 * 64, 9), { shape: [64, 64], requiresGrad: true });
    const y = w.matmul(w).relu();
    const z = y.matmul(w).sum();
    noGrad(() => y.mul_(2)); // saved by the second matmul: backward refuses it
    expect(() => z.backward()).toThrow(/modified by an in-place op/);
    expect(wasmActivationStats()!.liveBlocks).toBe(0);
  });

  it('leaves the other backends alone: under the reference, outputs are JS arrays', () => {
    withBackend('reference', () => {
      const w = tensor(rand(64 * 64, 9), { shape: [64, 64], requiresGrad: true });
      w.matmul(w).sum().backward();
      expect(inWasm(w.grad!.dataSync())).toBe(false);
    });
    expect(wasmActivationStats()!.liveBlocks).toBe(0);
  });

  it('holds the heap steady over 2,000 synchronous MLP steps', () => {
    const ps = mlp(true);
    for (let s = 0; s < 20; s++) step(ps);
    const warm = wasmActivationStats()!;
    let worst = warm;
    for (let s = 0; s < 2000; s++) {
      step(ps);
      const now = wasmActivationStats()!;
      if (now.cachedBytes + now.liveBytes > worst.cachedBytes + worst.liveBytes) worst = now;
      expect(now.liveBlocks).toBe(0);
    }
    expect(worst.cachedBlocks).toBe(warm.cachedBlocks);
    expect(worst.cachedBytes).toBe(warm.cachedBytes);
    expect(wasmActivationStats()!.heapBytes).toBe(warm.heapBytes);
  }, 120_000);
});

describe('activation size classes', () => {
  it('are 64-byte multiples below 64 KiB and quarter steps of a power of two above', () => {
    expect([1, 64, 65, 4096, 65536].map(sizeClass)).toEqual([64, 64, 128, 4096, 65536]);
    expect([65537, 81920, 81921, 1 << 20, (1 << 20) + 1].map(sizeClass)).toEqual([81920, 81920, 98304, 1 << 20, 1310720]);
  });

  it('reuse a given-back block of the class, return the cache to a full heap and retry, then give null', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const buffers = new WeakSet<ArrayBufferLike>([memory.buffer]);
    const rt = { memory, residentPtr: (a: Float32Array) => (buffers.has(a.buffer) ? a.byteOffset : -1) };
    let top = 0;
    const freed: number[] = [];
    const heap = {
      extent: 0,
      reclaim: null as (() => boolean) | null,
      alloc: (bytes: number): number | null => (top + bytes > 8192 ? (heap.reclaim!() ? heap.alloc(bytes) : null) : (top += bytes) - bytes),
      free: (ptr: number) => freed.push(ptr),
    };
    const pool = new ActivationPool(heap as unknown as WasmHeap, rt as never);
    const a = pool.take(1000, true)!;
    expect(a.length).toBe(1000);
    pool.give(a);
    expect(() => pool.give(a)).toThrow(/not a live block/);
    const b = pool.take(1000, false)!;
    expect(b.byteOffset).toBe(a.byteOffset); // the cached block of the same class
    expect(pool.take(900, true)!.byteOffset).toBe(4032); // a new block: 1000 floats took 4032 bytes
    pool.give(b);
    expect(pool.take(2000, true)).toBeNull(); // no room even after the cache went back
    expect(freed).toEqual([0]);
    expect(pool.stats()).toEqual({ liveBlocks: 1, liveBytes: 3648, cachedBlocks: 0, cachedBytes: 0, heapBytes: 0 });
  });
});
