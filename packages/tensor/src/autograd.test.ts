/** Autograd semantics, in-place updates, gradcheck itself, and tensor methods. */
import { describe, expect, it } from 'vitest';
import { enableGrad, gradcheck, isGradEnabled, noGrad, ones, tensor, Tensor, zeros } from './index.js';
import { finish } from './ops/core.js';
import { checkGrad, forEachBackend, randomInput } from './test-utils/index.js';

forEachBackend('autograd', () => {
  it('gradients accumulate across backward calls until reset', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.mul(3).sum().backward();
    w.mul(3).sum().backward();
    expect(w.grad!.toArray()).toEqual([6, 6]);
    w.grad = null;
    w.square().sum().backward();
    expect(w.grad!.toArray()).toEqual([2, 4]);
  });
  it('a tensor used twice receives both contributions', () => {
    const x = tensor([3], { requiresGrad: true });
    const y = x.mul(x).add(x); // dy/dx = 2x + 1
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([7]);
    const z = tensor([2], { requiresGrad: true });
    const h = z.exp();
    h.mul(h).sum().backward(); // d(e^{2z})/dz
    expect(z.grad!.item()).toBeCloseTo(2 * Math.exp(4), 3);
  });
  it('broadcasting is undone in the backward (leading and size-1 dims)', () => {
    const a = zeros([2, 3], { requiresGrad: true });
    const b = zeros([3], { requiresGrad: true });
    const c = zeros([2, 1], { requiresGrad: true });
    const s = tensor(0, { requiresGrad: true });
    a.add(b).add(c).add(s).sum().backward();
    expect(a.grad!.shape).toEqual([2, 3]);
    expect(b.grad!.toArray()).toEqual([2, 2, 2]);
    expect(c.grad!.toArray()).toEqual([[3], [3]]);
    expect(s.grad!.shape).toEqual([]);
    expect(s.grad!.item()).toBe(6);
  });
  it('noGrad records nothing; enableGrad turns recording back on', () => {
    const w = tensor([1], { requiresGrad: true });
    const y = noGrad(() => w.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(isGradEnabled()).toBe(true);
    noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      expect(enableGrad(() => w.mul(2)).requiresGrad).toBe(true);
    });
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
  });
  it('retainGraph allows a second backward; otherwise the freed graph explains itself', () => {
    const x = tensor([2], { requiresGrad: true });
    const y = x.square().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(x.grad!.toArray()).toEqual([8]);
    const z = x.exp().mul(2).sum();
    z.backward();
    expect(() => z.backward()).toThrow(/backward: the graph through '.*' was freed by an earlier backward\(\); pass \{ retainGraph: true \}/);
  });
  it('backward errors: non-scalar without a gradient, not requiring grad, wrong gradient shape', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(/backward: the tensor has shape \[2\]; backward\(\) without a gradient needs a scalar/);
    expect(() => tensor([1]).backward()).toThrow(/backward: this tensor does not require grad/);
    expect(() => noGrad(() => x.sum()).backward()).toThrow(/does not require grad/);
    expect(() => x.mul(2).backward(ones([3]))).toThrow(/backward: gradient shape \[3\] differs from the tensor's \[2\]/);
    x.mul(2).backward(tensor([1, 10]));
    expect(x.grad!.toArray()).toEqual([2, 20]);
  });
  it('detach cuts the graph; retainGrad keeps a non-leaf gradient; isLeaf', () => {
    const x = tensor([3], { requiresGrad: true });
    const h = x.mul(2).retainGrad();
    const d = h.detach();
    expect(d.requiresGrad).toBe(false);
    expect(h.isLeaf).toBe(false);
    expect(x.isLeaf).toBe(true);
    h.mul(d).sum().backward(); // d is a constant: d/dx (2x · 6) = 12
    expect(x.grad!.toArray()).toEqual([12]);
    expect(h.grad!.toArray()).toEqual([6]);
  });
  it('clone stays on the graph and copies the data', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const c = x.clone();
    expect(c.dataSync()).not.toBe(x.dataSync());
    c.mul(tensor([3, 4])).sum().backward();
    expect(x.grad!.toArray()).toEqual([3, 4]);
  });
  it('clone under gradcheck', () => {
    checkGrad((t) => t.clone().mul(t.add(1)), [randomInput([3], 107)]);
  });
  it('a deep chain does not overflow the stack', () => {
    const x = tensor([1], { requiresGrad: true, dtype: 'float64' });
    let y = x;
    for (let i = 0; i < 20000; i++) y = y.add(1e-4);
    y.sum().backward();
    expect(x.grad!.item()).toBe(1);
  });
  it('leaves never share a gradient buffer (in-place updates of one .grad leave the others alone)', () => {
    const a = ones([2, 3], { requiresGrad: true });
    const b = ones([6], { requiresGrad: true });
    const c = ones([2, 3], { requiresGrad: true });
    a.add(b.reshape(2, 3)).add(c).sum().backward();
    expect(a.grad!.dataSync()).not.toBe(b.grad!.dataSync());
    expect(a.grad!.dataSync()).not.toBe(c.grad!.dataSync());
    noGrad(() => a.grad!.mul_(10));
    expect(b.grad!.toArray()).toEqual([1, 1, 1, 1, 1, 1]);
    expect(c.grad!.toArray()).toEqual([[1, 1, 1], [1, 1, 1]]);
    const seed = tensor([1, 2]);
    const x = tensor([0, 0], { requiresGrad: true });
    x.backward(seed);
    noGrad(() => x.grad!.mul_(3));
    expect(seed.toArray()).toEqual([1, 2]);
  });
  it('a float32 leaf used in float64 math gets a float32 gradient', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.to('float64').mul(2).sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(x.grad!.toArray()).toEqual([2, 2]);
  });
});

forEachBackend('in-place ops', () => {
  it('add_, sub_ (alpha), mul_, div_, copy_, fill_, zero_, clamp_ with broadcasting and casting', () => {
    const x = tensor([[1, 2], [3, 4]]);
    x.add_(tensor([10, 20]));
    expect(x.toArray()).toEqual([[11, 22], [13, 24]]);
    x.sub_(tensor([1, 2]), 2);
    expect(x.toArray()).toEqual([[9, 18], [11, 20]]);
    x.mul_(2).div_(tensor([[2], [4]]));
    expect(x.toArray()).toEqual([[9, 18], [5.5, 10]]);
    x.clamp_(6, 12);
    expect(x.toArray()).toEqual([[9, 12], [6, 10]]);
    x.copy_(tensor([1, 2]));
    expect(x.toArray()).toEqual([[1, 2], [1, 2]]);
    x.fill_(3);
    expect(x.toArray()).toEqual([[3, 3], [3, 3]]);
    x.zero_();
    expect(x.toArray()).toEqual([[0, 0], [0, 0]]);
    const i = tensor([1, 2], { dtype: 'int32' });
    i.add_(tensor([0.9, 0.9]));
    expect(i.dtype).toBe('int32');
    expect(i.toArray()).toEqual([1, 2]);
    i.add_(3, 2);
    expect(i.toArray()).toEqual([7, 8]);
    expect(() => x.add_(ones([3]))).toThrow(/add_: cannot broadcast \[3\] into the in-place target \[2,2\]/);
  });
  it('backward refuses a graph whose saved tensors were changed in place (instead of a wrong gradient)', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const x = tensor([3, 4]);
    const y = w.mul(x);
    x.mul_(10);
    expect(() => y.sum().backward()).toThrow(/backward: the input 1 of 'mul' was modified by an in-place op/);
    const e = w.exp();
    const r = e.reshape(2, 1);
    noGrad(() => r.mul_(2)); // a view shares the buffer, and so the version
    expect(() => e.sum().backward()).toThrow(/the output of 'exp' was modified by an in-place op/);
    // Writes through dataSync() are invisible until markModified() says so.
    const z = tensor([5, 6]);
    const q = w.mul(z);
    z.dataSync()[0] = 7;
    z.markModified();
    expect(() => q.sum().backward()).toThrow(/backward: the input 1 of 'mul' was modified by an in-place op/);
    // Updating parameters after backward (the optimizer pattern) is fine.
    const loss = w.square().sum();
    loss.backward();
    noGrad(() => w.sub_(w.grad!, 0.1));
    expect(w.toArray()).toEqual([0.8, 1.6].map(Math.fround));
  });
  it('refuse leaves that require grad outside noGrad, work inside', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    expect(() => w.sub_(1)).toThrow(/sub_: in-place update of a leaf tensor that requires grad; wrap it in noGrad/);
    expect(() => w.zero_()).toThrow(/fill_/);
    noGrad(() => w.sub_(tensor([1, 1]), 0.5));
    expect(w.toArray()).toEqual([0.5, 1.5]);
    expect(w.requiresGrad).toBe(true);
  });
});

describe('gradcheck', () => {
  it('passes on a correct op and detects a deliberately wrong gradient', () => {
    const x = randomInput([3], 101);
    checkGrad((t) => t.sin().mul(t), [x]);
    // An op whose backward is off by a factor of 2.
    const wrongSquare = (t: Tensor): Tensor => {
      const out = new Tensor(Float64Array.from(t.dataSync(), (v) => v * v), t.shape, 'float64');
      return finish(out, 'wrongSquare', [t], {}, (g) => [g.mul(t).mul(4)]);
    };
    const r = gradcheck(wrongSquare, [x]);
    expect(r.ok).toBe(false);
    expect(r.relativeError).toBeGreaterThan(0.1);
    expect(r.inputs[0]!.maxAbsError).toBeGreaterThan(0);
    expect(() => gradcheck(wrongSquare, [x], { raise: true })).toThrow(/Kiln: gradcheck failed: relative error/);
    // A gradient that is dropped entirely for one input is caught too.
    const dropsB = (a: Tensor, b: Tensor): Tensor => {
      const out = new Tensor(Float64Array.from(a.dataSync(), (v, i) => v * b.dataSync()[i]!), a.shape, 'float64');
      return finish(out, 'dropsB', [a, b], {}, (g) => [g.mul(b), null]);
    };
    const res = gradcheck(dropsB, [randomInput([3], 102), randomInput([3], 103)]);
    expect(res.ok).toBe(false);
    expect(res.inputs[0]!.relativeError).toBeLessThan(1e-6);
    expect(res.inputs[1]!.relativeError).toBeGreaterThan(0.1);
  });
  it('checks a function closing over its inputs and leaves grads cleared', () => {
    const w = randomInput([2, 2], 104);
    const b = randomInput([2], 105);
    const x = tensor([[1, 2]], { dtype: 'float64' });
    const r = gradcheck(() => x.matmul(w).add(b).tanh().sum(), [w, b]);
    expect(r.ok).toBe(true);
    expect(w.grad).toBeNull();
  });
  it('rejects non-float64 inputs, inputs without requiresGrad and outputs off the graph', () => {
    expect(() => gradcheck((t) => t, [tensor([1], { requiresGrad: true })])).toThrow(/gradcheck: input 0 is float32; central differences need float64/);
    expect(() => gradcheck((t) => t, [tensor([1], { dtype: 'float64' })])).toThrow(/gradcheck: input 0 does not require grad/);
    expect(() => gradcheck(() => tensor([1], { dtype: 'float64' }), [randomInput([1], 106)])).toThrow(/the output does not depend/);
  });
});

describe('tensor methods and type errors', () => {
  it('shape helpers, item, toArray, casts', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.ndim).toBe(2);
    expect(t.numel()).toBe(6);
    expect(t.size()).toEqual([2, 3]);
    expect(t.size(-1)).toBe(3);
    expect(tensor([[7]]).item()).toBe(7);
    expect(() => t.item()).toThrow('Kiln: item: expected a tensor with one element, got shape [2,3]');
    expect(t.double().dtype).toBe('float64');
    expect(t.int().dtype).toBe('int32');
    expect(t.bool().toArray()).toEqual([[true, true, true], [true, true, true]]);
    expect(t.float()).toBe(t);
    expect(() => t.to('float16' as never)).toThrow("Kiln: cast: unknown dtype 'float16'");
    expect(String(t)).toContain('tensor');
  });
  it('ops reject non-tensors with a message naming the op', () => {
    expect(() => tensor([1]).matmul(5 as never)).toThrow(/matmul: b must be a Tensor, got number/);
    expect(() => tensor([1]).gather(0, [0] as never)).toThrow('Kiln: gather: index must be a Tensor, got object');
    expect(() => tensor([1]).indexSelect(0, 0 as never)).toThrow('Kiln: indexSelect: index must be a Tensor, got number');
  });
  it('dataSync is live', () => {
    const t = zeros([2]);
    t.dataSync()[1] = 5;
    expect(t.toArray()).toEqual([0, 5]);
  });
});
