// Resident storage: parameters and gradient slots in the Wasm memory (heap.ts, residentArrays),
// used in place by GEMM and the fused optimizer, must give the same bits as staged copies.
import { describe, expect, it } from 'vitest';
import { kernels, withBackend } from '../../backend.js';
import { linear, makeResident, relu, Tensor, tensor } from '../../index.js';
import { wasmInfo } from './index.js';
import { rand } from './test-utils/data.js';

const bits = (a: ArrayLike<number>) => Array.from(new Int32Array(Float32Array.from(a).buffer));
const shared = wasmInfo()?.build.endsWith('+threads') ?? false;

/** A two-layer net's weights, as plain tensors or moved into the Wasm memory as an optimizer does. */
function params(resident: boolean): Tensor[] {
  const shapes = [[48, 70], [48], [9, 48], [9]];
  const ps = shapes.map((s, i) => tensor(rand(s.reduce((a, b) => a * b, 1), 11 + i), { shape: s, requiresGrad: true }));
  if (resident) {
    const lengths = ps.map((p) => p.numel());
    const data = kernels().residentArrays!(lengths)!;
    const slots = kernels().residentArrays!(lengths)!;
    ps.forEach((p, i) => p._adoptResident(data[i]!, slots[i]!));
  }
  return ps;
}

function step(ps: Tensor[], x: Tensor): number {
  for (const p of ps) p.grad = null;
  const [w1, b1, w2, b2] = ps as [Tensor, Tensor, Tensor, Tensor];
  const loss = linear(relu(linear(x, w1, b1)), w2, b2).square().sum();
  loss.backward();
  kernels().optimizerStep({
    rule: 'sgd', lr: 1e-4, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false, first: true,
    momentumBuffer: null, params: ps.map((p) => p.dataSync() as Float32Array), grads: ps.map((p) => p.grad!.dataSync() as Float32Array),
    offsets: ps.map(() => 0),
  });
  return loss.item();
}

// Registered per build rather than skipped: the single-threaded build (plain pages in the browser)
// has no shared memory, so it has no resident storage and optimizers keep JS arrays.
if (!shared) {
  describe('wasm backend without shared memory', () => {
    it('has no resident storage: residentArrays gives null, so parameters stay in JS arrays', () => {
      expect(wasmInfo()).not.toBeNull();
      expect(kernels().residentArrays!([4, 4])).toBeNull();
    });
  });
} else describe('wasm backend: resident parameters and gradient slots', () => {
  it('live in the Wasm memory, receive gradients in their slots, and train bit for bit like staged copies', () => {
    const x = tensor(rand(40 * 70, 3), { shape: [40, 70] });
    const staged = params(false);
    const resident = params(true);
    for (let s = 0; s < 3; s++) {
      expect(step(resident, x)).toBe(step(staged, x));
      resident.forEach((p, i) => {
        expect(p.grad!.dataSync()).toBe(p._gradSlot); // written where the optimizer reads it
        expect(bits(p.grad!.dataSync())).toEqual(bits(staged[i]!.grad!.dataSync()));
        expect(bits(p.dataSync())).toEqual(bits(staged[i]!.dataSync()));
      });
    }
    // The reference backend reads the same resident arrays as plain Float32Arrays (its sums
    // run in another order, so the values agree to rounding).
    const ref = withBackend('reference', () => linear(x, resident[0]!, resident[1]!).dataSync());
    const fast = linear(x, resident[0]!, resident[1]!).dataSync();
    ref.forEach((v, i) => expect(Math.abs(v - fast[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(v))));
  });

  it('reuses a gradient slot only after the gradient is cleared; a second backward adds to a fresh array', () => {
    const x = tensor(rand(8 * 70, 5), { shape: [8, 70] });
    const [w1, b1] = params(true) as [Tensor, Tensor];
    w1.grad = null;
    linear(x, w1, b1).sum().backward();
    const first = Array.from(w1.grad!.dataSync());
    expect(w1.grad!.dataSync()).toBe(w1._gradSlot);
    linear(x, w1, b1).sum().backward(); // accumulates: grad = 2 × first, not in the slot
    expect(w1.grad!.dataSync()).not.toBe(w1._gradSlot);
    expect(Array.from(w1.grad!.dataSync())).toEqual(first.map((v) => Math.fround(v + v)));
    w1.grad = null;
    linear(x, w1, b1).sum().backward();
    expect(w1.grad!.dataSync()).toBe(w1._gradSlot);
    expect(Array.from(w1.grad!.dataSync())).toEqual(first);
  });

  it('makeResident without gradient slots moves the values only; a later call adds the slots and keeps the values where they are', () => {
    const x = tensor(rand(8 * 70, 7), { shape: [8, 70] });
    const staged = params(false);
    const ps = staged.map((p) => tensor(Float32Array.from(p.dataSync()), { shape: p.shape, requiresGrad: true }));
    const before = ps.map((p) => p.dataSync());
    makeResident(ps, { gradSlots: false });
    ps.forEach((p, i) => {
      expect(p.dataSync()).not.toBe(before[i]); // moved into the Wasm memory
      expect(p._gradSlot).toBeNull();
      expect(bits(p.dataSync())).toEqual(bits(staged[i]!.dataSync()));
    });
    const moved = ps.map((p) => p.dataSync());
    // Inference reads them in place and gives the staged bits; training still works (gradients in
    // fresh arrays) until an optimizer's call adds the slots.
    expect(bits(linear(x, ps[0]!, ps[1]!).dataSync())).toEqual(bits(linear(x, staged[0]!, staged[1]!).dataSync()));
    expect(step(ps, x)).toBe(step(staged, x));
    makeResident(ps);
    ps.forEach((p, i) => {
      expect(p.dataSync()).toBe(moved[i]); // not moved again
      expect(p._gradSlot).not.toBeNull();
    });
    for (let s = 0; s < 2; s++) expect(step(ps, x)).toBe(step(staged, x));
    ps.forEach((p, i) => expect(bits(p.dataSync())).toEqual(bits(staged[i]!.dataSync())));
  });

  it('gives one slot to one gradient when a weight is used twice in a graph', () => {
    const x = tensor(rand(6 * 48, 9), { shape: [6, 48] });
    const [, , w] = params(true) as [Tensor, Tensor, Tensor];
    const square = tensor(rand(48 * 48, 4), { shape: [48, 48], requiresGrad: true });
    const stagedSquare = tensor(Float32Array.from(square.dataSync()), { shape: [48, 48], requiresGrad: true });
    const adopted = kernels().residentArrays!([48 * 48])!;
    const slot = kernels().residentArrays!([48 * 48])!;
    square._adoptResident(adopted[0]!, slot[0]!);
    expect(w._gradSlot).not.toBeNull();
    for (const s of [square, stagedSquare]) linear(linear(x, s), s).sum().backward();
    expect(bits(square.grad!.dataSync())).toEqual(bits(stagedSquare.grad!.dataSync()));
  });
});
