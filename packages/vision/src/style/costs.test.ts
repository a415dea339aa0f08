/**
 * Style-transfer costs against PyTorch 1.13 goldens (fixtures/face-style/style.safetensors from
 * scripts/gen_face_style_fixtures.py), float64 gradchecks, and errors.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors } from '@kiln/nn';
import { tensor, type Tensor } from '@kiln/tensor';
import { checkGrad, expectClose, randomInput } from '@kiln/tensor/testing';
import { contentCost, gramMatrix, styleCost, styleLayerCost, totalCost, totalVariation } from './index.js';

const golden = parseSafetensors(readFileSync(fileURLToPath(new URL('../../fixtures/face-style/style.safetensors', import.meta.url)))).tensors;
const g = (k: string): Tensor => {
  const t = golden[k];
  if (!t) throw new Error(`missing golden ${k}`);
  return t;
};
const fresh = (k: string) => g(k).detach().requiresGrad_();
const scalar = (t: Tensor) => t.reshape([1]);
const TOL = { atol: 1e-12, rtol: 1e-10 };

describe('style costs match PyTorch', () => {
  it('gramMatrix: value and gradient', () => {
    const f = fresh('gram.input');
    const out = gramMatrix(f);
    expectClose(out, g('gram.output'), TOL);
    const w = tensor(Array.from({ length: out.numel() }, (_, i) => -1 + (2 * i) / (out.numel() - 1)), { dtype: 'float64' }).reshape(out.shape);
    out.mul(w).sum().backward();
    expectClose(f.grad!, g('gram.grad'), TOL);
    expectClose(gramMatrix(f.detach(), { normalize: true }), g('gram.output').div(3 * 4 * 5), TOL);
    expectClose(gramMatrix(f.detach().narrow(0, 1, 1).squeeze(0)), g('gram.output').narrow(0, 1, 1).squeeze(0), TOL);
  });

  it('contentCost, the per-layer and weighted style costs, totalCost', () => {
    const ag = fresh('content.a_g');
    const jc = contentCost(g('content.a_c'), ag);
    expectClose(scalar(jc), g('content.cost'), TOL);
    jc.backward();
    expectClose(ag.grad!, g('content.grad'), TOL);
    const S: Record<string, Tensor> = {}, G: Record<string, Tensor> = {}, W: Record<string, number> = {};
    for (const l of ['l0', 'l1', 'l2']) {
      S[l] = g(`style.${l}.a_s`); G[l] = fresh(`style.${l}.a_g`); W[l] = g(`style.${l}.lambda`).item();
      expectClose(scalar(styleLayerCost(S[l], G[l].detach())), g(`style.${l}.cost`), TOL);
    }
    const js = styleCost(S, G, W);
    expectClose(scalar(js), g('style.cost'), TOL);
    js.backward();
    for (const l of ['l0', 'l1', 'l2']) expectClose(G[l]!.grad!, g(`style.${l}.grad`), TOL);
    expectClose(scalar(totalCost(jc.detach(), js.detach())), g('total.value'), TOL);
    console.log(`style costs vs PyTorch: content ${jc.item().toExponential(4)}, style ${js.item().toExponential(4)} (|diff| ${Math.abs(js.item() - g('style.cost').item()).toExponential(1)})`);
  });

  it('totalVariation p = 1 and p = 2', () => {
    for (const p of [1, 2] as const) {
      const x = fresh(`tv${p}.input`);
      const tv = totalVariation(x, { p });
      expectClose(scalar(tv), g(`tv${p}.value`), TOL);
      tv.backward();
      expectClose(x.grad!, g(`tv${p}.grad`), TOL);
    }
  });
});

describe('style costs gradcheck (float64)', () => {
  const a = randomInput([1, 3, 3, 4], 1), b = randomInput([1, 3, 3, 4], 2);
  it('gramMatrix (plain and normalised)', () => {
    checkGrad((x) => gramMatrix(x).mul(gramMatrix(x)).sum(), [a]);
    checkGrad((x) => gramMatrix(x, { normalize: true }).sum(), [a]);
  });
  it('contentCost and styleLayerCost in both arguments', () => {
    checkGrad((x, y) => contentCost(x, y), [a, b]);
    checkGrad((x, y) => styleLayerCost(x, y), [a, b]);
    checkGrad((x, y) => styleCost({ p: x, q: y }, { p: y, q: x }, { p: 0.3, q: 0.7 }), [a, b]);
  });
  it('totalVariation', () => {
    checkGrad((x) => totalVariation(x), [a]);
    checkGrad((x) => totalVariation(x, { p: 2 }), [a]);
  });
});

describe('style costs bad input', () => {
  const a = tensor(new Float32Array(2 * 3 * 4 * 4), { shape: [2, 3, 4, 4] });
  it('names the function, the arguments and the shapes', () => {
    expect(() => contentCost(a, a.narrow(2, 0, 2))).toThrow(/Kiln: contentCost: content activations \[2,3,4,4\] and generated activations \[2,3,2,4\] must have the same shape/);
    expect(() => gramMatrix(a.reshape([2, 48]))).toThrow(/gramMatrix: features must be feature maps \[N, C, H, W\] or \[C, H, W\], got \[2,48\]/);
    expect(() => styleCost({ x: a }, { y: a }, { x: 1 })).toThrow(/styleCost: layer 'x' is missing from the generated features \(have: y\)/);
    expect(() => styleCost({ x: a }, { x: a }, {})).toThrow(/styleCost: weights must name at least one layer/);
    expect(() => totalVariation(a, { p: 3 as never })).toThrow(/totalVariation: option 'p' must be 1 or 2, got 3/);
  });
});
