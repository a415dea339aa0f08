import { describe, expect, it } from 'vitest';
import { kernels, withBackend } from '../../backend.js';
import '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { rand, worst } from './test-utils/data.js';

/** Random values scaled to [-s, s), so gates reach saturation (|x| up to ~10) and the small-|x| branch. */
const randScaled = (n: number, seed: number, s: number): Float32Array => rand(n, seed).map((v) => v * s);

const wasm = <T>(fn: () => T): T => withBackend('wasm', fn);
// Hidden sizes: multiples of 4 and ones with a 1-, 2- and 3-element tail.
const shapes = [[3, 8], [2, 5], [4, 6], [1, 7], [32, 256]] as const;

describe('wasm recurrent cells against the reference kernels (float32)', () => {
  for (const [B, H] of shapes) {
    it(`LSTM cell forward and backward, batch ${B}, hidden ${H}`, () => {
      const gates = randScaled(B * 4 * H, 1, 6);
      gates[0] = 1e-4; // tanh/sigmoid near 0
      if (gates.length > 2 * H) gates[2 * H] = -3e-3;
      const cPrev = randScaled(B * H, 2, 3);
      const outs = () => ({ act: new Float32Array(B * 4 * H).fill(NaN), c: new Float32Array(B * H).fill(NaN), h: new Float32Array(B * H).fill(NaN) });
      const ref = outs();
      referenceKernels.lstmCell({ batch: B, hidden: H, gates, cPrev, peep: null, ...ref });
      const got = outs();
      wasm(() => kernels().lstmCell({ batch: B, hidden: H, gates, cPrev, peep: null, ...got }));
      for (const k of ['act', 'c', 'h'] as const) expect(worst(got[k], ref[k]), k).toBeLessThan(2e-6);

      const dh = randScaled(B * H, 3, 1);
      const dc = randScaled(B * H, 4, 1);
      const grads = () => ({ dGates: new Float32Array(B * 4 * H).fill(NaN), dcPrev: new Float32Array(B * H).fill(NaN) });
      const gRef = grads();
      referenceKernels.lstmCellBackward({ batch: B, hidden: H, dh, dc, act: ref.act, cPrev, c: ref.c, peep: null, dPeep: null, ...gRef });
      const gGot = grads();
      wasm(() => kernels().lstmCellBackward({ batch: B, hidden: H, dh, dc, act: ref.act, cPrev, c: ref.c, peep: null, dPeep: null, ...gGot }));
      expect(worst(gGot.dGates, gRef.dGates), 'dGates').toBeLessThan(2e-6);
      expect(worst(gGot.dcPrev, gRef.dcPrev), 'dcPrev').toBeLessThan(2e-6);
    });

    it(`GRU cell forward and backward, batch ${B}, hidden ${H}`, () => {
      const xGates = randScaled(B * 3 * H, 5, 5);
      const hGates = randScaled(B * 3 * H, 6, 5);
      xGates[2 * H] = 2e-3;
      hGates[2 * H] = 0;
      const hPrev = randScaled(B * H, 7, 1);
      const outs = () => ({ act: new Float32Array(B * 4 * H).fill(NaN), h: new Float32Array(B * H).fill(NaN) });
      const ref = outs();
      referenceKernels.gruCell({ batch: B, hidden: H, xGates, hGates, hPrev, ...ref });
      const got = outs();
      wasm(() => kernels().gruCell({ batch: B, hidden: H, xGates, hGates, hPrev, ...got }));
      expect(worst(got.act, ref.act), 'act').toBeLessThan(2e-6);
      expect(worst(got.h, ref.h), 'h').toBeLessThan(2e-6);

      const dh = randScaled(B * H, 8, 1);
      const grads = () => ({ dxGates: new Float32Array(B * 3 * H).fill(NaN), dhGates: new Float32Array(B * 3 * H).fill(NaN), dhPrev: new Float32Array(B * H).fill(NaN) });
      const gRef = grads();
      referenceKernels.gruCellBackward({ batch: B, hidden: H, dh, act: ref.act, hPrev, ...gRef });
      const gGot = grads();
      wasm(() => kernels().gruCellBackward({ batch: B, hidden: H, dh, act: ref.act, hPrev, ...gGot }));
      for (const k of ['dxGates', 'dhGates', 'dhPrev'] as const) expect(worst(gGot[k], gRef[k]), k).toBeLessThan(2e-6);
    });
  }

  it('saturates cleanly: huge pre-activations give 0/1 gates (to 1e-30) and ±1 tanh, never NaN', () => {
    const H = 4;
    const gates = new Float32Array([200, -200, 1e30, -1e30, -200, 200, 50, -150, 0, 0, -1e30, 1e30, 100, -100, 0, 1e-30]);
    const got = { act: new Float32Array(16), c: new Float32Array(H), h: new Float32Array(H) };
    wasm(() => kernels().lstmCell({ batch: 1, hidden: H, gates, cPrev: new Float32Array([1, -1, 0, 2]), peep: null, ...got }));
    const near = (xs: Float32Array, want: number[]) => xs.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-30));
    near(got.act.subarray(0, 4), [1, 0, 1, 0]); // i = σ
    near(got.act.subarray(4, 8), [0, 1, 1, 0]); // f = σ
    near(got.act.subarray(8, 12), [0, 0, -1, 1]); // g = tanh
    expect(got.h.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('float64 and peephole cells take the reference path (same results bit for bit)', () => {
    const B = 2;
    const H = 3;
    const gates = Float64Array.from(randScaled(B * 4 * H, 9, 4));
    const cPrev = Float64Array.from(randScaled(B * H, 10, 2));
    const run = (k: typeof referenceKernels) => {
      const o = { act: new Float64Array(B * 4 * H), c: new Float64Array(B * H), h: new Float64Array(B * H) };
      k.lstmCell({ batch: B, hidden: H, gates, cPrev, peep: null, ...o });
      return o;
    };
    expect(wasm(() => run(kernels()))).toEqual(run(referenceKernels));
  });
});
