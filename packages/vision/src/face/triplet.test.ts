/**
 * tripletMarginLoss against PyTorch 1.13 goldens (fixtures/face-style/triplet.safetensors from
 * scripts/gen_face_style_fixtures.py): values and gradients of every option, float64 gradchecks,
 * and the errors for mismatched batches.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors } from '@kiln/nn';
import { tensor, type Tensor } from '@kiln/tensor';
import { checkGrad, expectClose, randomInput } from '@kiln/tensor/testing';
import { pairwiseDistance, tripletMarginLoss, TripletMarginLoss, type TripletMarginLossOptions } from './index.js';

const golden = parseSafetensors(readFileSync(fileURLToPath(new URL('../../fixtures/face-style/triplet.safetensors', import.meta.url)))).tensors;
const g = (k: string): Tensor => {
  const t = golden[k];
  if (!t) throw new Error(`missing golden ${k}`);
  return t;
};

const CASES: [string, TripletMarginLossOptions][] = [
  ['default', {}],
  ['margin0.5_p1', { margin: 0.5, p: 1 }],
  ['p3_swap', { p: 3, swap: true }],
  ['swap_sum', { swap: true, reduction: 'sum' }],
  ['eps0.1_none', { eps: 0.1, reduction: 'none' }],
  ['margin2_none', { margin: 2, reduction: 'none' }],
];

describe('tripletMarginLoss matches PyTorch', () => {
  let worst = 0;
  for (const [name, options] of CASES) {
    it(`${name} ${JSON.stringify(options)}: loss and gradients`, () => {
      const [a, p, n] = ['anchor', 'positive', 'negative'].map((k) => g(`${name}.${k}`).detach().requiresGrad_());
      const loss = tripletMarginLoss(a!, p!, n!, options);
      const expected = g(`${name}.loss`);
      expectClose(loss.reshape([-1]), expected, { atol: 1e-12, rtol: 1e-12 });
      loss.mul(g(`${name}.weight`).reshape(loss.shape)).sum().backward();
      for (const [t, k] of [[a, 'anchor'], [p, 'positive'], [n, 'negative']] as const) {
        expectClose(t!.grad!, g(`${name}.grad_${k}`), { atol: 1e-12, rtol: 1e-10 });
        const e = g(`${name}.grad_${k}`).dataSync(), o = t!.grad!.dataSync();
        for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(Number(e[i]) - Number(o[i])));
      }
      if (name === 'margin2_none') console.log(`tripletMarginLoss vs PyTorch: worst gradient |diff| over the batched cases ${worst.toExponential(2)}`);
    });
  }

  it('an unbatched triplet ([D] inputs) and the module form', () => {
    const [a, p, n] = ['anchor', 'positive', 'negative'].map((k) => g(`unbatched.${k}`).detach().requiresGrad_());
    const loss = new TripletMarginLoss({ margin: 3 }).forward(a!, p!, n!);
    expect(loss.shape).toEqual([]);
    expectClose(loss.reshape([1]), g('unbatched.loss'), { atol: 1e-12 });
    loss.backward();
    expectClose(a!.grad!, g('unbatched.grad_anchor'), { atol: 1e-12 });
    expectClose(n!.grad!, g('unbatched.grad_negative'), { atol: 1e-12 });
  });

  it('pairwiseDistance with a fractional p', () => {
    expectClose(pairwiseDistance(g('pdist.x1'), g('pdist.x2'), { p: 1.5 }), g('pdist.p1.5'), { atol: 1e-12 });
  });
});

describe('tripletMarginLoss gradcheck (float64)', () => {
  // inputs spread so that the hinge is active for some triplets and no distance sits near a kink
  const a = randomInput([4, 3], 1), p = randomInput([4, 3], 2), n = randomInput([4, 3], 3, -2, 2);
  for (const options of [{}, { p: 1, margin: 0.7 }, { p: 3, swap: true }, { swap: true, reduction: 'sum' as const }]) {
    it(JSON.stringify(options), () => {
      checkGrad((x, y, z) => tripletMarginLoss(x, y, z, { ...options, reduction: 'none' }).mul(tensor([1, 2, 3, 4], { dtype: 'float64' })).sum(), [a, p, n]);
      checkGrad((x, y, z) => tripletMarginLoss(x, y, z, options), [a, p, n]);
    });
  }
});

describe('tripletMarginLoss bad input', () => {
  const a = tensor([[0, 1], [1, 0], [1, 1]]);
  it('mismatched batch sizes name the function and all three shapes', () => {
    expect(() => tripletMarginLoss(a, a, a.narrow(0, 0, 2))).toThrow(/Kiln: tripletMarginLoss: anchor \[3,2\], positive \[3,2\] and negative \[2,2\] must have the same shape/);
    expect(() => tripletMarginLoss(a, tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), a)).toThrow(/positive \[3,3\]/);
  });
  it('wrong ranks, options and p', () => {
    expect(() => tripletMarginLoss(a.reshape([3, 2, 1]), a, a)).toThrow(/tripletMarginLoss: anchor must be embeddings \[N, D\] or \[D\], got \[3,2,1\]/);
    expect(() => tripletMarginLoss(a, a, a, { margn: 1 } as never)).toThrow(/tripletMarginLoss: unknown option 'margn'/);
    expect(() => tripletMarginLoss(a, a, a, { p: 0 })).toThrow(/option 'p' must be a positive number, got 0/);
    expect(() => tripletMarginLoss(a, a, a, { reduction: 'avg' as never })).toThrow(/option 'reduction' must be one of 'mean', 'sum', 'none'/);
    expect(() => pairwiseDistance(a, a.t())).toThrow(/pairwiseDistance: x1 \[3,2\] and x2 \[2,3\] must have the same shape/);
  });
});
