import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensor, Tensor } from '@kiln/tensor';
import { checkGrad, randomInput } from '@kiln/tensor/testing';
import { ctcLoss, CTCLoss, type CTCLossOptions } from './loss.js';

interface Case {
  name: string;
  shape: number[];
  x: Array<number | string>;
  targets: number[] | number[][];
  inputLengths: number[] | number;
  targetLengths: number[] | number;
  options: CTCLossOptions;
  loss: Array<number | string>;
  gradLogProbs: Array<number | string>;
  gradX: Array<number | string>;
}

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/ctc/ctc_loss.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };
const nums = (v: Array<number | string>) => Float64Array.from(v, Number); // "Infinity" / "NaN" strings too

/** Max |a − b| and max |a − b| / max(|b|, 1e-3) over finite entries; NaN and ±Infinity must match exactly. */
function compare(a: ArrayLike<number>, b: Float64Array, what: string): { abs: number; rel: number } {
  expect(a.length, what).toBe(b.length);
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Number.isFinite(y)) {
      expect(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)), `${what}[${i}]: got ${x}, torch ${y}`).toBe(true);
      continue;
    }
    const d = Math.abs(x - y);
    abs = Math.max(abs, d);
    rel = Math.max(rel, d / Math.max(Math.abs(y), 1e-3));
  }
  return { abs, rel };
}

/**
 * PyTorch's CTC backward adds exp(logProbs)·(the sample's upstream gradient) on its valid frames
 * (see loss.ts). A sample zeroed by zeroInfinity has an all-zero gradient in both conventions; any
 * other sample's exact gradient sums to −(upstream) over the classes of each frame, so is never all zero.
 */
function torchConvention(grad: Float64Array, lp: Float64Array, c: Case): Float64Array {
  const [, N, C] = c.shape.length === 2 ? [c.shape[0]!, 1, c.shape[1]!] : (c.shape as [number, number, number]);
  const il = ([] as number[]).concat(c.inputLengths);
  const tl = ([] as number[]).concat(c.targetLengths);
  const red = c.options.reduction ?? 'mean';
  const out = Float64Array.from(grad);
  for (let n = 0; n < N; n++) {
    const up = red === 'none' ? n + 1 : red === 'sum' ? 1 : 1 / (N * Math.max(tl[n]!, 1));
    if (il[n]! > 0 && grad.subarray(n * C, (n + 1) * C).every((v) => v === 0)) continue;
    for (let t = 0; t < il[n]!; t++) for (let k = 0; k < C; k++) {
      const i = (t * N + n) * C + k;
      out[i] = grad[i]! + Math.exp(lp[i]!) * up;
    }
  }
  return out;
}

describe(`ctcLoss matches torch.nn.functional.ctc_loss (${fixture.torch}) on ${fixture.cases.length} fixtures`, () => {
  const worst = { loss: { abs: 0, rel: 0 }, gradX: { abs: 0, rel: 0 }, gradLogProbs: { abs: 0, rel: 0 } };
  const note = (k: keyof typeof worst, e: { abs: number; rel: number }) => {
    worst[k].abs = Math.max(worst[k].abs, e.abs);
    worst[k].rel = Math.max(worst[k].rel, e.rel);
  };

  for (const c of fixture.cases) {
    it(c.name, () => {
      const x = tensor(nums(c.x), { shape: c.shape, requiresGrad: true });
      const lp = x.logSoftmax(-1);
      const lpLeaf = lp.detach().requiresGrad_();
      const targets = tensor(c.targets as never, { dtype: 'int32' });
      const run = (input: Tensor) => {
        const loss = ctcLoss(input, targets, c.inputLengths, c.targetLengths, c.options);
        const w = c.options.reduction === 'none' ? tensor(Array.from({ length: loss.numel() }, (_, i) => i + 1), { dtype: 'float64' }).reshape(loss.shape) : null;
        (w ? loss.mul(w).sum() : loss).backward();
        return loss;
      };
      const loss = run(lp);
      run(lpLeaf);
      const want = nums(c.loss);
      note('loss', compare(loss.dataSync(), want, 'loss'));
      // The gradient through logSoftmax, and the one with respect to the log-probabilities (PyTorch's convention restored).
      note('gradX', compare(x.grad!.dataSync(), nums(c.gradX), 'gradX'));
      const g = torchConvention(lpLeaf.grad!.dataSync() as Float64Array, lp.dataSync() as Float64Array, c);
      note('gradLogProbs', compare(g, nums(c.gradLogProbs), 'gradLogProbs'));
      expect(worst.loss.rel).toBeLessThan(1e-12);
      expect(worst.gradX.abs).toBeLessThan(1e-12);
      expect(worst.gradLogProbs.abs).toBeLessThan(1e-12);
    });
  }

  it('reports the worst errors', () => {
    console.log(`ctcLoss vs PyTorch, worst over the fixtures: loss abs ${worst.loss.abs.toExponential(2)} rel ${worst.loss.rel.toExponential(2)}; ` +
      `grad(logits) abs ${worst.gradX.abs.toExponential(2)} rel ${worst.gradX.rel.toExponential(2)}; grad(logProbs) abs ${worst.gradLogProbs.abs.toExponential(2)} rel ${worst.gradLogProbs.rel.toExponential(2)}`);
    expect(worst.loss.rel).toBeLessThan(1e-12);
  });
});

describe('ctcLoss', () => {
  it('float32 agrees with the float64 fixtures', () => {
    const c = fixture.cases.find((k) => k.name.startsWith('long: T 60'))!;
    const lp = tensor(nums(c.x), { shape: c.shape }).float().logSoftmax(-1).requiresGrad_();
    const loss = ctcLoss(lp, tensor(c.targets as never, { dtype: 'int32' }), c.inputLengths, c.targetLengths, c.options);
    expect(loss.dtype).toBe('float32');
    expect(Math.abs(loss.item() - Number(c.loss[0])) / Number(c.loss[0])).toBeLessThan(1e-5);
  });

  it('gradcheck (float64) through every reduction, padded and concatenated, blank ≠ 0', () => {
    const targets = tensor([[1, 1, 2], [2, 0, 0]], { dtype: 'int32' });
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      checkGrad((x) => ctcLoss(x.logSoftmax(2), targets, [5, 4], [3, 1], { reduction }).sum(), [randomInput([5, 2, 3], 7, -2, 2)]);
    }
    checkGrad((x) => ctcLoss(x, tensor([0, 0, 3, 1], { dtype: 'int32' }), [6, 3], [3, 1], { blank: 2 }), [randomInput([6, 2, 4], 8, -3, 0)]);
    checkGrad((x) => ctcLoss(x.logSoftmax(1), tensor([2, 1], { dtype: 'int32' }), 4, 2), [randomInput([4, 3], 9, -2, 2)]);
  });

  it('CTCLoss takes PyTorch\'s constructor options', () => {
    const c = fixture.cases.find((k) => k.name === 'impossible alignments, reduction mean, zeroInfinity True')!;
    const lp = tensor(nums(c.x), { shape: c.shape }).logSoftmax(-1);
    const m = new CTCLoss({ reduction: 'mean', zeroInfinity: true });
    expect(m.forward(lp, tensor(c.targets as never, { dtype: 'int32' }), c.inputLengths, c.targetLengths).item()).toBeCloseTo(Number(c.loss[0]), 12);
    expect(new CTCLoss({ blank: 3, reduction: 'sum' }).reduction).toBe('sum');
    expect(() => new CTCLoss({ zero_infinity: true } as never)).toThrow(/^Kiln: CTCLoss: unknown option 'zero_infinity' \(known: blank, reduction, zeroInfinity\)$/);
    expect(() => new CTCLoss({ reduction: 'avg' } as never)).toThrow("Kiln: CTCLoss: option 'reduction' must be one of 'mean', 'sum', 'none', got 'avg'");
  });

  it('bad input: clear errors naming ctcLoss, the argument and the values', () => {
    const lp = tensor(new Float64Array(4 * 2 * 3).fill(Math.log(1 / 3)), { shape: [4, 2, 3] });
    const tg = tensor([[1, 2], [2, 0]], { dtype: 'int32' });
    const i32 = (v: number[]) => tensor(v, { dtype: 'int32' });
    expect(Number.isFinite(ctcLoss(lp, tg, i32([4, 4]), i32([2, 1])).item())).toBe(true); // the valid call
    // target lengths longer than the inputs allow
    expect(() => ctcLoss(lp, tg, [4, 0], [2, 1])).toThrow(
      'Kiln: ctcLoss: targetLengths[1] = 1 is longer than inputLengths[1] = 0: no alignment emits 1 labels in 0 frames (shorten the target, downsample the input less, or pass zeroInfinity: true to let such samples contribute 0)',
    );
    expect(ctcLoss(lp, tg, [4, 0], [2, 1], { zeroInfinity: true, reduction: 'none' }).dataSync()[1]).toBe(0);
    expect(() => ctcLoss(lp, tg, [5, 4], [2, 1])).toThrow('Kiln: ctcLoss: inputLengths[0] = 5 exceeds T = 4 (logProbs [4,2,3])');
    expect(() => ctcLoss(lp, tg, [4, 4], [3, 1])).toThrow('Kiln: ctcLoss: targetLengths[0] = 3 exceeds the 2 columns of the padded targets [2,2]');
    // lengths of the wrong count or dtype
    expect(() => ctcLoss(lp, tg, [4, 4, 4], [2, 1])).toThrow('Kiln: ctcLoss: inputLengths has 3 entries, expected 2 (the batch size of logProbs)');
    expect(() => ctcLoss(lp, tg, [4, 4], i32([2]))).toThrow('Kiln: ctcLoss: targetLengths has 1 entries, expected 2 (the batch size of logProbs)');
    expect(() => ctcLoss(lp, tg, tensor([4, 4]), [2, 1])).toThrow('Kiln: ctcLoss: inputLengths must hold integers (an int32 Tensor or an array), got a float32 Tensor [2]');
    expect(() => ctcLoss(lp, tg, [4, 3.5], [2, 1])).toThrow('Kiln: ctcLoss: inputLengths[1] must be a non-negative integer, got 3.5 (inputLengths must hold integers)');
    expect(() => ctcLoss(lp, tg, [4, 4], [2, -1])).toThrow('Kiln: ctcLoss: targetLengths[1] must be a non-negative integer, got -1');
    expect(() => ctcLoss(lp, tg, 4, [2, 1])).toThrow('Kiln: ctcLoss: inputLengths must be 2 lengths (an int32 Tensor or an array), got the number 4');
    // targets containing the blank, out of range, of the wrong dtype or form
    expect(() => ctcLoss(lp, tg, [4, 4], [2, 2])).toThrow('Kiln: ctcLoss: targets[1][1] = 0 is the blank (blank = 0); targets must hold labels only');
    expect(() => ctcLoss(lp, i32([1, 2, 2]), [4, 4], [2, 1], { blank: 2 })).toThrow('Kiln: ctcLoss: targets[1] = 2 is the blank (blank = 2); targets must hold labels only');
    expect(() => ctcLoss(lp, i32([1, 3, 2]), [4, 4], [2, 1])).toThrow('Kiln: ctcLoss: targets[1] = 3 is not a class of logProbs [4,2,3] (0..2)');
    expect(() => ctcLoss(lp, i32([1, 2, 2, 1]), [4, 4], [2, 1])).toThrow('Kiln: ctcLoss: concatenated (1-d) targets must hold exactly sum(targetLengths) = 3 labels, got 4 (pad them to [N, S] to pass extra entries)');
    expect(() => ctcLoss(lp, tensor([[1, 2], [2, 1]]), [4, 4], [2, 1])).toThrow('Kiln: ctcLoss: targets must be an int32 Tensor of labels, got float32 [2,2]');
    expect(() => ctcLoss(lp, i32([1, 2, 2, 1, 1, 1]).reshape([3, 2]), [4, 4], [2, 1])).toThrow('Kiln: ctcLoss: padded targets [3,2] must have 2 rows (the batch size of logProbs [4,2,3])');
    expect(() => ctcLoss(lp, [[1, 2]] as never, [4, 4], [2, 1])).toThrow('Kiln: ctcLoss: targets must be an int32 Tensor, got an array');
    // logProbs of the wrong rank or dtype; a blank outside the classes; options
    expect(() => ctcLoss(lp.reshape([1, 4, 2, 3]), tg, [4, 4], [2, 1])).toThrow('Kiln: ctcLoss: logProbs must be [T, N, C] (or [T, C] unbatched), got [1,4,2,3]');
    expect(() => ctcLoss(lp.reshape([24]), tg, [4, 4], [2, 1])).toThrow('Kiln: ctcLoss: logProbs must be [T, N, C] (or [T, C] unbatched), got [24]');
    expect(() => ctcLoss(lp.to('int32'), tg, [4, 4], [2, 1])).toThrow('Kiln: ctcLoss: logProbs must be float32 or float64, got int32');
    expect(() => ctcLoss(lp, tg, [4, 4], [2, 1], { blank: 3 })).toThrow('Kiln: ctcLoss: blank = 3 is not a class of logProbs [4,2,3] (C = 3)');
    expect(() => ctcLoss(lp, tg, [4, 4], [2, 1], { zero_infinity: true } as never)).toThrow(/^Kiln: ctcLoss: unknown option 'zero_infinity'/);
    expect(() => ctcLoss(lp, tg, [4, 4], [2, 1], { blank: -1 })).toThrow("Kiln: ctcLoss: option 'blank' must be a non-negative integer, got -1");
  });
});
