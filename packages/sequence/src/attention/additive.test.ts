import { describe, expect, it } from 'vitest';
import { Generator, Tensor, gradcheck, randn } from '@kiln/tensor';
import { AdditiveAttention } from './additive.js';

const rand = (g: Generator, shape: number[]) => new Tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => g.normal()), shape, 'float64');

describe('AdditiveAttention', () => {
  it('computes e = vᵀ·tanh(W_s·s + W_a·a + b), α = softmax(e), c = Σ α·a (checked by explicit loops), padding gets zero weight', () => {
    const g = new Generator(1);
    const att = new AdditiveAttention(3, 4, 5, { dtype: 'float64', generator: g });
    const B = 2, T = 4, q = rand(g, [B, 3]), k = rand(g, [B, T, 4]), lengths = [4, 2];
    const [ctx, w] = att.forward(q, k, { lengths });
    expect(ctx.shape).toEqual([B, 4]);
    expect(w.shape).toEqual([B, T]);
    const Ws = att.query_proj.weight.dataSync(), Wa = att.key_proj.weight.dataSync(), b = att.key_proj.bias!.dataSync(), v = att.energy.weight.dataSync();
    const qd = q.dataSync(), kd = k.dataSync(), wd = w.dataSync(), cd = ctx.dataSync();
    for (let bi = 0; bi < B; bi++) {
      const e: number[] = [];
      for (let t = 0; t < lengths[bi]!; t++) {
        let et = 0;
        for (let h = 0; h < 5; h++) {
          let z = b[h]!;
          for (let i = 0; i < 3; i++) z += Ws[h * 3 + i]! * qd[bi * 3 + i]!;
          for (let i = 0; i < 4; i++) z += Wa[h * 4 + i]! * kd[(bi * T + t) * 4 + i]!;
          et += v[h]! * Math.tanh(z);
        }
        e.push(et);
      }
      const m = Math.max(...e), z = e.reduce((a, x) => a + Math.exp(x - m), 0);
      const alpha = e.map((x) => Math.exp(x - m) / z);
      for (let t = 0; t < T; t++) expect(wd[bi * T + t]!).toBeCloseTo(alpha[t] ?? 0, 12);
      for (let i = 0; i < 4; i++) expect(cd[bi * 4 + i]!).toBeCloseTo(alpha.reduce((a, al, t) => a + al * kd[(bi * T + t) * 4 + i]!, 0), 12);
    }
    // precomputed key projection gives the same result
    const [ctx2] = att.forward(q, k, { lengths, projectedKeys: att.projectKeys(k) });
    expect(Array.from(ctx2.dataSync())).toEqual(Array.from(ctx.dataSync()));
  });

  it('gradchecks in float64 (query, keys and all parameters; with and without padding)', () => {
    const g = new Generator(2);
    const att = new AdditiveAttention(3, 2, 4, { dtype: 'float64', generator: g });
    const q = rand(g, [2, 3]).requiresGrad_(), k = rand(g, [2, 3, 2]).requiresGrad_();
    const probe = rand(g, [2, 2]), probeW = rand(g, [2, 3]);
    const loss = ([c, w]: [Tensor, Tensor]) => c.mul(probe).sum().add(w.mul(probeW).sum());
    for (const lengths of [undefined, [3, 2]]) {
      const res = gradcheck(() => loss(att.forward(q, k, lengths ? { lengths } : {})), [q, k, ...att.parameters()]);
      expect(res.ok).toBe(true);
      expect(res.relativeError).toBeLessThan(1e-6);
    }
  });

  it('rejects bad shapes and options', () => {
    const att = new AdditiveAttention(3, 4, 5);
    const q = randn([2, 3]), k = randn([2, 6, 4]);
    expect(() => att.forward(randn([2, 4]), k)).toThrow(/AdditiveAttention: query must be \[2, 3\] for keys \[2,6,4\], got \[2,4\]/);
    expect(() => att.forward(q, randn([2, 6, 3]))).toThrow(/AdditiveAttention: keys must be \[B, T, 4\], got \[2,6,3\]/);
    expect(() => att.forward(q, k, { lengths: [7, 1] })).toThrow(/lengths\[0\] = 7 must be in 1..6/);
    expect(() => att.forward(q, k, { lengths: [1] })).toThrow(/lengths has 1 entries for a batch of 2/);
    expect(() => att.forward(q, k, { mask: 1 } as never)).toThrow(/AdditiveAttention.forward.*mask/);
    expect(() => new AdditiveAttention(0, 4, 5)).toThrow(/querySize must be a positive integer, got 0/);
  });
});
