import { expect, it } from 'vitest';
import { ctcNll, tensor, type Tensor } from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

interface Case { T: number; C: number; targets: number[][]; inputLengths: number[]; blank?: number }

/** −log Σ over every path of C^Tn frames that collapses (merge repeats, drop blanks) to the target. */
function bruteForce(lp: Float64Array | Float32Array, T: number, N: number, C: number, target: number[], n: number, Tn: number, blank: number): number {
  let total = 0;
  const path = new Array<number>(Tn).fill(0);
  for (let k = 0; k < C ** Tn; k++) {
    let r = k;
    for (let t = 0; t < Tn; t++) { path[t] = r % C; r = Math.floor(r / C); }
    const out: number[] = [];
    path.forEach((c, t) => { if (c !== blank && (t === 0 || path[t - 1] !== c)) out.push(c); });
    if (out.length !== target.length || out.some((c, i) => c !== target[i])) continue;
    total += Math.exp(path.reduce((s, c, t) => s + lp[(t * N + n) * C + c]!, 0));
  }
  return -Math.log(total);
}

function logSoftmaxed(c: Case, seed: number): Tensor {
  return randomInput([c.T, c.targets.length, c.C], seed, -2, 2).logSoftmax(2).detach();
}

const cases: Case[] = [
  { T: 5, C: 3, targets: [[1, 1], [2], [1, 2, 1]], inputLengths: [5, 4, 5] }, // repeated label needs a blank between
  { T: 4, C: 4, targets: [[], [3, 3, 3], [2, 1]], inputLengths: [3, 4, 2] }, // zero-length target; "333" in 4 frames: impossible (needs 5)
  { T: 5, C: 3, targets: [[0, 0], [0, 1]], inputLengths: [5, 5], blank: 2 }, // blank ≠ 0
  { T: 3, C: 3, targets: [[], [1]], inputLengths: [0, 3] }, // an empty input
];

forEachBackend('ctcNll', () => {
  it('equals −log of the summed probability of every alignment (brute force)', () => {
    cases.forEach((c, i) => {
      const lp = logSoftmaxed(c, 11 + i);
      const N = c.targets.length;
      const nll = ctcNll({ logProbs: lp, targets: c.targets.flat(), targetLengths: c.targets.map((t) => t.length), inputLengths: c.inputLengths, blank: c.blank });
      const want = c.targets.map((t, n) => bruteForce(lp.dataSync() as Float64Array, c.T, N, c.C, t, n, c.inputLengths[n]!, c.blank ?? 0));
      expectClose(nll, want, { atol: 1e-12, rtol: 1e-12 });
    });
  });

  it('an impossible alignment gives Infinity and NaN gradients, or 0 and zero gradients with zeroInfinity', () => {
    const c = cases[1]!;
    for (const zeroInfinity of [false, true]) {
      const lp = logSoftmaxed(c, 5).requiresGrad_();
      const nll = ctcNll({ logProbs: lp, targets: [3, 3, 3, 2, 1], targetLengths: [0, 3, 2], inputLengths: c.inputLengths, zeroInfinity });
      expect(nll.dataSync()[1]).toBe(zeroInfinity ? 0 : Infinity);
      nll.sum().backward();
      const g = lp.grad!.dataSync();
      for (let t = 0; t < c.T; t++) for (let k = 0; k < c.C; k++) {
        const v = g[(t * 3 + 1) * c.C + k]!;
        if (zeroInfinity) expect(v).toBe(0); else expect(v).toBeNaN();
      }
      // the other samples' gradients stay finite; steps past an input length get none
      for (let k = 0; k < c.C; k++) expect(g[(2 * 3 + 2) * c.C + k]).toBe(0);
      expect(Array.from(g.subarray(0, c.C)).every(Number.isFinite)).toBe(true);
    }
  });

  it('gradcheck (float64): on free log-probabilities and through logSoftmax', () => {
    cases.forEach((c, i) => {
      if (i === 1) c = { ...c, targets: [[], [3, 3], [2, 1]] }; // the infinite sample has no finite gradient
      const args = { targets: c.targets.flat(), targetLengths: c.targets.map((t) => t.length), inputLengths: c.inputLengths, blank: c.blank };
      const w = tensor(c.targets.map((_, n) => n + 1), { dtype: 'float64' }); // distinct weight per sample
      checkGrad((x) => ctcNll({ logProbs: x, ...args }).mul(w).sum(), [randomInput([c.T, c.targets.length, c.C], 30 + i, -3, 0)]);
      checkGrad((x) => ctcNll({ logProbs: x.logSoftmax(2), ...args }).mul(w).sum(), [randomInput([c.T, c.targets.length, c.C], 40 + i, -2, 2)]);
    });
  });

  it('float32 agrees with float64', () => {
    const c = cases[0]!;
    const lp = logSoftmaxed(c, 3);
    const args = { targets: c.targets.flat(), targetLengths: c.targets.map((t) => t.length), inputLengths: c.inputLengths };
    const a = ctcNll({ logProbs: lp, ...args });
    const b = ctcNll({ logProbs: lp.float(), ...args });
    expect(b.dtype).toBe('float32');
    expectClose(b, a, { atol: 1e-5, rtol: 1e-5 });
  });
});

it('ctcNll: bad arguments are errors naming the argument and the values', () => {
  const lp = tensor(new Float64Array(2 * 1 * 3), { shape: [2, 1, 3] });
  const ok = { logProbs: lp, targets: [1], targetLengths: [1], inputLengths: [2] };
  expect(() => ctcNll({ ...ok, logProbs: lp.reshape([2, 3]) })).toThrow('Kiln: ctcNll: logProbs must be 3-d [T, N, C], got [2,3]');
  expect(() => ctcNll({ ...ok, inputLengths: [3] })).toThrow('Kiln: ctcNll: inputLengths[0] = 3 exceeds T = 2 of logProbs [2,1,3]');
  expect(() => ctcNll({ ...ok, targetLengths: [1, 1] })).toThrow('Kiln: ctcNll: targetLengths has 2 entries for a batch of 1');
  expect(() => ctcNll({ ...ok, targets: [0] })).toThrow('Kiln: ctcNll: targets[0] = 0 is the blank');
  expect(() => ctcNll({ ...ok, targets: [3] })).toThrow('Kiln: ctcNll: targets[0] = 3 is not a class (C = 3)');
  expect(() => ctcNll({ ...ok, targetLengths: [2] })).toThrow('Kiln: ctcNll: targetLengths sum to 2 but targets has 1 labels');
  expect(() => ctcNll({ ...ok, blank: 3 })).toThrow('Kiln: ctcNll: blank = 3 is not a class of logProbs [2,1,3]');
  expect(() => ctcNll({ ...ok, inputLengths: [1.5] })).toThrow('Kiln: ctcNll: inputLengths[0] = 1.5 is not a non-negative integer');
});
