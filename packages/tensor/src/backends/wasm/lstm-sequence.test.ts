import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, kernels, setNumThreads, threadsReady, withBackend, type LstmSequenceArgs, type LstmSequenceBackwardArgs } from '../../backend.js';
import { wasmInfo } from '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { rand, worst } from './test-utils/data.js';

const scaled = (n: number, seed: number, s: number): Float32Array => rand(n, seed).map((v) => v * s);

interface Case { T: number; B: number; H: number; I: number; lengths?: number[]; reverse?: boolean; bias?: boolean }

/** Active rows per step for lengths sorted longest first (as ops/recurrent.ts passes them). */
function activeOf(c: Case): Int32Array {
  const lens = c.lengths ?? new Array<number>(c.B).fill(c.T);
  return Int32Array.from({ length: c.T }, (_, t) => lens.filter((l) => l > t).length);
}

/** Runs forward then backward on `k` from identical inputs; returns every array either writes. */
function run(k: Pick<typeof referenceKernels, 'lstmSequence' | 'lstmSequenceBackward'>, c: Case): Record<string, Float32Array> {
  const { T, B, H, I } = c;
  const active = activeOf(c);
  const common = {
    steps: T, batch: B, hidden: H, stateSize: H, inputSize: I, active, reverse: c.reverse ?? false,
    input: scaled(T * B * I, 1, 1), weightIh: scaled(4 * H * I, 8, 0.7), weightHh: scaled(4 * H * H, 2, 0.6), weightHr: null, peep: null,
  };
  const f: LstmSequenceArgs = {
    ...common, biasIh: c.bias === false ? null : scaled(4 * H, 9, 1), biasHh: c.bias === false ? null : scaled(4 * H, 10, 1),
    h: scaled(B * H, 3, 1), c: scaled(B * H, 4, 1), act: new Float32Array(T * B * 4 * H), output: new Float32Array(T * B * H),
    hPrev: new Float32Array(T * B * H), cPrev: new Float32Array(T * B * H), cAll: new Float32Array(T * B * H), mAll: null,
  };
  k.lstmSequence(f);
  const b: LstmSequenceBackwardArgs = {
    ...common, dOutput: scaled(T * B * H, 5, 1), dh: scaled(B * H, 6, 1), dc: scaled(B * H, 7, 1), act: f.act, hPrev: f.hPrev,
    cPrev: f.cPrev, cAll: f.cAll, mAll: null, dInput: new Float32Array(T * B * I).fill(NaN), dWeightIh: new Float32Array(4 * H * I).fill(NaN),
    dWeightHh: new Float32Array(4 * H * H).fill(NaN), dBias: new Float32Array(4 * H).fill(NaN), dWeightHr: null, dPeep: null,
  };
  k.lstmSequenceBackward(b);
  // act is specified on active rows only (the reference leaves the input projection in the others).
  for (let t = 0; t < T; t++) f.act.fill(0, (t * B + active[t]!) * 4 * H, (t + 1) * B * 4 * H);
  const o = {
    act: f.act, h: f.h, c: f.c, output: f.output, hPrev: f.hPrev, cPrev: f.cPrev, cAll: f.cAll,
    dh: b.dh, dc: b.dc, dInput: b.dInput, dWeightIh: b.dWeightIh, dWeightHh: b.dWeightHh, dBias: b.dBias,
  };
  return o as Record<string, Float32Array>;
}

const wasmKernels = () => withBackend('wasm', () => kernels());

describe('wasm lstmSequence / lstmSequenceBackward against the reference composition (float32)', () => {
  const before = withBackend('wasm', () => getNumThreads());
  afterAll(() => withBackend('wasm', () => setNumThreads(before)));

  // Hidden sizes with a partial group of 8 (and of 4), batches with a partial tile of 4 rows.
  const cases: Case[] = [
    { T: 3, B: 2, H: 8, I: 4 }, { T: 4, B: 5, H: 13, I: 7, bias: false }, { T: 2, B: 1, H: 3, I: 1 }, { T: 5, B: 7, H: 20, I: 9, reverse: true },
    { T: 6, B: 5, H: 12, I: 5, lengths: [6, 5, 3, 3, 1] }, { T: 6, B: 5, H: 12, I: 3, lengths: [6, 4, 4, 2, 1], reverse: true },
    { T: 4, B: 3, H: 9, I: 2, lengths: [3, 2, 1] }, { T: 5, B: 32, H: 64, I: 16 },
    // One sequence of up to 4 steps runs step by step on matrix-vector products (decoding); of
    // more, on the packed weights.
    { T: 1, B: 1, H: 300, I: 64 }, { T: 4, B: 1, H: 37, I: 5, reverse: true }, { T: 7, B: 1, H: 40, I: 6 },
  ];
  for (const c of cases) {
    it(`T ${c.T}, batch ${c.B}, input ${c.I}, hidden ${c.H}${c.lengths ? `, lengths ${c.lengths.join(',')}` : ''}${c.reverse ? ', reverse' : ''}`, () => {
      withBackend('wasm', () => setNumThreads(1));
      const ref = run(referenceKernels, c);
      const got = run(wasmKernels(), c);
      for (const key of Object.keys(ref)) expect(worst(got[key]!, ref[key]!), key).toBeLessThan(5e-5);
    });
  }

  it('gives bit-identical results on 1, 2 and 3 threads', async () => {
    // Batches of 23 and 32 split rows (6 and 8 panels of 4) between up to 3 threads; 100 = 12 groups of 8 and a 4.
    const lengths = Array.from({ length: 23 }, (_, i) => 5 - Math.floor(i / 5));
    const c: Case = { T: 5, B: 23, H: 100, I: 12, lengths, reverse: true };
    const big: Case = { T: 4, B: 32, H: 96, I: 33 };
    // A batch of 3 is one 4-row panel: threads split the hidden units (one task per step) instead of the rows.
    const narrow: Case = { T: 3, B: 3, H: 264, I: 20, lengths: [3, 2, 1] };
    // A hidden size that is not a multiple of 4: the gate gradients go to the weight gradients' panels element by element.
    const odd: Case = { T: 3, B: 9, H: 13, I: 5, lengths: [3, 3, 3, 2, 2, 2, 1, 1, 1] };
    // One sequence decoded step by step: its matrix-vector products split the gates' outputs.
    const single: Case = { T: 3, B: 1, H: 264, I: 20 };
    withBackend('wasm', () => setNumThreads(1));
    const one = [run(wasmKernels(), c), run(wasmKernels(), big), run(wasmKernels(), narrow), run(wasmKernels(), odd), run(wasmKernels(), single)];
    for (const n of [2, 3]) {
      withBackend('wasm', () => setNumThreads(n));
      // Wait for the workers instead of hoping they start during the run.
      await withBackend('wasm', () => threadsReady());
      expect([run(wasmKernels(), c), run(wasmKernels(), big), run(wasmKernels(), narrow), run(wasmKernels(), odd), run(wasmKernels(), single)]).toEqual(one);
    }
    if (wasmInfo()!.build.endsWith('+threads')) expect(wasmInfo()!.maxThreadsUsed).toBeGreaterThanOrEqual(3);
  });
});
