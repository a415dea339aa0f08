import { expect, it } from 'vitest';
import { classNll, logSoftmax, tensor, type Tensor } from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';
import { classNllGoldens } from '../test-utils/class-nll-golden.js';

const f64 = (v: number[], shape: number[]): Tensor => tensor(Float64Array.from(v), { shape });
const i32 = (v: number[]): Tensor => tensor(Int32Array.from(v));

forEachBackend('classNll', () => {
  it('matches PyTorch 1.13 F.nll_loss and its gradient (float64): reductions, class weights, ignored rows', () => {
    for (const c of classNllGoldens) {
      const x = f64(c.x, [c.rows, c.classes]).requiresGrad_();
      const weight = c.weight ? f64(c.weight, [c.classes]) : null;
      const loss = classNll(x, i32(c.target), { weight, ignoreIndex: c.ignoreIndex, reduction: c.reduction });
      expect(loss.shape, c.name).toEqual(c.reduction === 'none' ? [c.rows] : []);
      expectClose(loss.reshape([-1]), c.loss, { atol: 1e-12, rtol: 1e-12 });
      loss.mul(f64(c.g, [...loss.shape])).sum().backward();
      expectClose(x.grad!.reshape([-1]), c.dx, { atol: 1e-12, rtol: 1e-12 });
    }
  });

  it('float32 through logSoftmax: the loss and gradient of the primitives it replaces', () => {
    const logits = tensor(randomInput([37, 10], 5).to('float32').dataSync(), { shape: [37, 10], requiresGrad: true });
    const target = i32(Array.from({ length: 37 }, (_, i) => (i * 7) % 10));
    const loss = classNll(logSoftmax(logits, 1), target);
    loss.backward();
    const viaFused = logits.grad!.dataSync().slice();
    logits.grad = null;
    const picked = logSoftmax(logits, 1).gather(1, target.reshape([37, 1]));
    const reference = picked.sum().neg().div(37);
    reference.backward();
    expect(loss.item()).toBeCloseTo(reference.item(), 6);
    expectClose(tensor(viaFused, { shape: [37, 10] }), logits.grad!, { atol: 1e-7, rtol: 1e-6 });
  });

  it('gradchecks in float64 for every reduction', () => {
    const t = i32([2, 0, -100, 1, 2]);
    const w = f64([0.5, 2, 1.5], [3]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      checkGrad((x) => classNll(x, t, { reduction, weight: w }), [randomInput([5, 3], 11)]);
    }
  });

  it('gives NaN for a mean over no kept rows, as PyTorch', () => {
    expect(classNll(f64([-1, -2], [1, 2]), i32([-100])).item()).toBeNaN();
  });

  it('names the function, argument and values at fault', () => {
    const x = f64([-1, -2, -3, -4], [2, 2]);
    expect(() => classNll(x, i32([0, 2]))).toThrow(/classNll: target 2 at row 1 out of range for 2 classes/);
    expect(() => classNll(x, i32([0]))).toThrow(/classNll: target must be int32 of shape \[2\] for input \[2,2\], got int32 \[1\]/);
    expect(() => classNll(x, f64([0, 1], [2]))).toThrow(/classNll: target must be int32/);
    expect(() => classNll(f64([1, 2], [2]), i32([0, 1]))).toThrow(/classNll: input must be \[rows, classes\], got shape \[2\]/);
    expect(() => classNll(x, i32([0, 1]), { weight: f64([1], [1]) })).toThrow(/classNll: weight must have shape \[2\], got \[1\]/);
    expect(() => classNll(x, i32([0, 1]), { reduction: 'avg' as never })).toThrow(/classNll: option 'reduction' must be one of 'mean', 'sum', 'none'/);
    expect(() => classNll(x, i32([0, 1]), { ignore: 1 } as never)).toThrow(/classNll: unknown option 'ignore'/);
  });
});
