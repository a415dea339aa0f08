import { expect, it } from 'vitest';
import { lstmRecurrence, type Tensor } from '../index.js';
import { expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

// The float32 LSTM keeps its saved arrays in the backend's memory and reuses them across
// forwards (recurrent-saved.ts): graphs still alive when their arrays are reused must keep
// their own values, and reused arrays must not leak an earlier run's values into a later one.

const T = 5, B = 6, I = 3, H = 8;
type Params = Record<'input' | 'h0' | 'c0' | 'weightIh' | 'weightHh' | 'biasIh' | 'biasHh', Tensor>;

function params(seed: number, dtype: 'float32' | 'float64' = 'float32'): Params {
  const r = (shape: number[], s: number, lo?: number, hi?: number): Tensor => {
    const t = randomInput(shape, seed + s, lo, hi).detach();
    return (dtype === 'float32' ? t.float() : t).requiresGrad_();
  };
  return {
    input: r([T, B, I], 0), h0: r([B, H], 1), c0: r([B, H], 2), weightIh: r([4 * H, I], 3, -0.7, 0.7),
    weightHh: r([4 * H, H], 4, -0.7, 0.7), biasIh: r([4 * H], 5), biasHh: r([4 * H], 6),
  };
}

const loss = (p: Params, lengths: number[] | null = null): Tensor => {
  const [y, h, c] = lstmRecurrence({ ...p, lengths });
  return y.mul(y.add(0.5)).sum().add(h.sum().mul(2)).add(c.mul(c).sum());
};
const grads = (p: Params): Float32Array[] => Object.values(p).map((t) => Float32Array.from(t.grad!.dataSync()));
const lengthsOf = (i: number): number[] | null => (i % 2 ? [5, 4, 4, 2, 1, 1] : null);

forEachBackend('lstm saved arrays', () => {
  it('graphs alive across later forwards give the gradients of one-at-a-time runs', () => {
    const n = 7; // more graphs at once than the sets kept for reuse
    const one = Array.from({ length: n }, (_, i) => {
      const p = params(100 + 10 * i);
      loss(p, lengthsOf(i)).backward();
      return grads(p);
    });
    const ps = Array.from({ length: n }, (_, i) => params(100 + 10 * i));
    const losses = ps.map((p, i) => loss(p, lengthsOf(i)));
    for (let i = n - 1; i >= 0; i--) {
      losses[i]!.backward();
      expect(grads(ps[i]!)).toEqual(one[i]);
    }
  });

  it('a retained graph runs backward again after later forwards reused its arrays', () => {
    const p = params(7);
    const l = loss(p);
    l.backward(undefined, { retainGraph: true });
    const first = grads(p);
    for (let i = 0; i < 5; i++) loss(params(200 + i)).backward();
    l.backward();
    grads(p).forEach((g, k) => expect(Array.from(g)).toEqual(Array.from(first[k]!, (v) => 2 * v)));
  });

  it('a variable-length run after a NaN run has finite gradients that match float64', () => {
    // NaN everywhere in the arrays a later run may reuse; its padded rows must not see them.
    for (let i = 0; i < 5; i++) {
      const bad = params(300 + i);
      loss({ ...bad, input: bad.input.detach().mul(Number.NaN).requiresGrad_() }).backward();
    }
    const lengths = [5, 3, 3, 2, 1, 1];
    const p32 = params(9);
    const p64 = params(9, 'float64');
    loss(p32, lengths).backward();
    loss(p64, lengths).backward();
    for (const key of Object.keys(p32) as Array<keyof Params>) {
      expect(p32[key].grad!.dataSync().every(Number.isFinite), key).toBe(true);
      expectClose(p32[key].grad!, p64[key].grad!, { atol: 1e-5, rtol: 1e-4 });
    }
  });
});
