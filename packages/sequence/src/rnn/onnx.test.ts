/**
 * ONNX export of the recurrent layers (mapping in @kiln/onnx export/layers/recurrent.ts) against
 * ONNX Runtime (and Kiln's own import of the export): one export per model with symbolic batch and sequence axes, then two sequence
 * lengths × two batch sizes, outputs and final states within 1e-4.
 */
import { describe, expect, it } from 'vitest';
import { Generator, manualSeed, noGrad, randn, tensor, type Tensor } from '@kiln/tensor';
import { Module } from '@kiln/nn';
import { decodeModel, exportOnnx, createSession, importOnnx, runSession, type Exportable } from '@kiln/onnx';
import { expectClose } from '@kiln/tensor/testing';
import { GRU, LSTM, ManyToOne, RNN } from '../index.js';

manualSeed(3);

/** A layer returning its outputs flat ([output, hN, cN]), with or without initial states. */
class Flat extends Module {
  constructor(readonly rnn: RNN | GRU | LSTM, readonly withState: boolean) {
    super();
  }

  override forward(x: Tensor, h0?: Tensor, c0?: Tensor): Tensor[] {
    if (this.rnn instanceof LSTM) {
      const [o, [h, c]] = this.rnn.forward(x, h0 && c0 ? [h0, c0] : null);
      return [o, h, c];
    }
    return this.rnn.forward(x, h0 ?? null);
  }
}

function inputsFor(m: Flat, T: number, B: number, unbatched = false): Tensor[] {
  const r = m.rnn;
  const D = r.numLayers * r.numDirections;
  const x = unbatched ? randn([T, r.inputSize]) : r.batchFirst ? randn([B, T, r.inputSize]) : randn([T, B, r.inputSize]);
  if (!m.withState) return [x];
  const st = (size: number) => (unbatched ? randn([D, size]) : randn([D, B, size]));
  return r instanceof LSTM ? [x, st(r.hiddenSize), st(r.hiddenSize)] : [x, st(r.hiddenSize)];
}

async function parity(m: Flat, unbatched = false): Promise<{ worst: number; ops: string[] }> {
  m.eval();
  const isLstm = m.rnn instanceof LSTM;
  const inNames = ['input', 'h0', 'c0'].slice(0, m.withState ? (isLstm ? 3 : 2) : 1);
  const outNames = ['output', 'h_n', 'c_n'].slice(0, isLstm ? 3 : 2);
  const [tAx, bAx] = m.rnn.batchFirst ? [1, 0] : [0, 1];
  const dyn: Record<string, Record<number, string>> = unbatched
    ? { input: { 0: 'seq' }, output: { 0: 'seq' } }
    : Object.fromEntries([...inNames, ...outNames].map((n) => [n, n === 'input' || n === 'output' ? { [tAx]: 'seq', [bAx]: 'batch' } : { 1: 'batch' }]));
  const bytes = exportOnnx(m, inputsFor(m, 5, 3, unbatched), { inputNames: inNames, outputNames: outNames, dynamicAxes: dyn, opset: 17 });
  const ops = decodeModel(bytes).graph!.node!.map((n) => n.opType!);
  const s = await createSession(bytes, { backend: 'node' });
  const back = importOnnx(bytes);
  let worst = 0;
  for (const [T, B] of [[4, 2], [7, 5]] as const) {
    const xs = inputsFor(m, T, B, unbatched);
    const ref = noGrad(() => m.forward(xs[0]!, xs[1], xs[2]));
    // Round trip: Kiln's import of its own export computes the same function.
    const again = noGrad(() => back.forward(...xs)) as Tensor[];
    ref.forEach((r, i) => expectClose(again[i]!, r, { atol: 1e-5, rtol: 1e-5 }));
    const res = await runSession(s, Object.fromEntries(inNames.map((n, i) => [n, xs[i]!])));
    outNames.forEach((n, i) => {
      expect(res[n]!.shape, n).toEqual(ref[i]!.shape);
      const a = ref[i]!.dataSync();
      const o = res[n]!.dataSync();
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - Number(o[j])) / Math.max(1, Math.abs(a[j]!)));
    });
  }
  return { worst, ops };
}

const g = () => ({ generator: new Generator(7) });
const cases: Array<[string, () => Flat, string, boolean?]> = [
  ['LSTM 2 layers bidirectional, initial states', () => new Flat(new LSTM(3, 4, { numLayers: 2, bidirectional: true, ...g() }), true), 'LSTM'],
  ['LSTM peephole, batchFirst, no states', () => new Flat(new LSTM(3, 4, { peephole: true, batchFirst: true, ...g() }), false), 'LSTM'],
  ['LSTM unbatched, 2 layers, states', () => new Flat(new LSTM(3, 4, { numLayers: 2, ...g() }), true), 'LSTM', true],
  ['GRU 2 layers bidirectional, initial state', () => new Flat(new GRU(3, 4, { numLayers: 2, bidirectional: true, ...g() }), true), 'GRU'],
  ['GRU course variant, bidirectional, batchFirst', () => new Flat(new GRU(3, 4, { variant: 'course', bidirectional: true, batchFirst: true, ...g() }), true), 'GRU'],
  ['RNN relu bidirectional', () => new Flat(new RNN(3, 4, { nonlinearity: 'relu', bidirectional: true, ...g() }), true), 'RNN'],
  ['RNN tanh 3 layers, no bias, batchFirst', () => new Flat(new RNN(3, 4, { numLayers: 3, bias: false, batchFirst: true, ...g() }), false), 'RNN'],
];

describe('ONNX export of recurrent layers vs onnxruntime-node (one export, T ∈ {4, 7}, B ∈ {2, 5})', () => {
  const figures: string[] = [];
  for (const [label, make, op, unbatched] of cases) {
    it(label, async () => {
      const m = make();
      const { worst, ops } = await parity(m, unbatched);
      figures.push(`${label}: ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
      expect(ops.filter((o) => o === op).length).toBe(m.rnn.numLayers);
      expect(ops.every((o) => ['LSTM', 'GRU', 'RNN', 'Transpose', 'Reshape', 'Slice', 'Concat', 'Unsqueeze', 'Squeeze'].includes(o))).toBe(true);
    });
  }

  it('a bare LSTM exports with its nested [output, [hN, cN]] as three graph outputs', async () => {
    const lstm = new LSTM(3, 4, { bidirectional: true }).eval();
    const x = randn([5, 2, 3]);
    const bytes = exportOnnx(lstm as unknown as Exportable, [x]);
    const s = await createSession(bytes, { backend: 'node' });
    expect(s.outputNames).toEqual(['output_0', 'output_1', 'output_2']);
    const res = await runSession(s, { input: x });
    const [o, [h, c]] = noGrad(() => lstm.forward(x));
    [o, h, c].forEach((t, i) => expectClose(res[`output_${i}`]!, t, { atol: 1e-5, rtol: 1e-4 }));
  });

  it('lengths given as an int32 tensor export as sequence_lens (one export; other batch sizes, lengths and T)', async () => {
    const worst: number[] = [];
    for (const make of [
      () => new GRU(3, 4, { numLayers: 2, bidirectional: true, generator: new Generator(3) }),
      () => new LSTM(3, 4, { peephole: true, bidirectional: true, batchFirst: true, generator: new Generator(4) }),
      () => new RNN(3, 4, { nonlinearity: 'relu', bidirectional: true, generator: new Generator(5) }),
    ]) {
      const rnn = make().eval();
      const D = rnn.numLayers * rnn.numDirections;
      const run = (x: Tensor, h0: Tensor, lengths: Tensor): Tensor[] => {
        if (rnn instanceof LSTM) {
          const [o, [h, c]] = rnn.forward(x, [h0, h0.mul(0.5)], { lengths });
          return [o, h, c];
        }
        return rnn.forward(x, h0, { lengths });
      };
      const model = { forward: run, eval: () => rnn.eval(), namedParameters: () => rnn.namedParameters() };
      const sample = (T: number, lens: number[]): Tensor[] => [
        rnn.batchFirst ? randn([lens.length, T, 3]) : randn([T, lens.length, 3]), randn([D, lens.length, 4]), tensor(Int32Array.from(lens)),
      ];
      const [tAx, bAx] = rnn.batchFirst ? [1, 0] : [0, 1];
      const outNames = rnn instanceof LSTM ? ['output', 'h_n', 'c_n'] : ['output', 'h_n'];
      const bytes = exportOnnx(model, sample(5, [5, 2, 4]), {
        inputNames: ['input', 'h0', 'lengths'], outputNames: outNames,
        dynamicAxes: { input: { [tAx]: 'seq', [bAx]: 'batch' }, output: { [tAx]: 'seq', [bAx]: 'batch' }, h0: { 1: 'batch' }, lengths: { 0: 'batch' }, h_n: { 1: 'batch' } },
      });
      const s = await createSession(bytes, { backend: 'node' });
      let w = 0;
      for (const [T, lens] of [[4, [4, 1]], [7, [7, 3, 1, 5, 2]]] as const) {
        const xs = sample(T, [...lens]);
        const ref = noGrad(() => run(xs[0]!, xs[1]!, xs[2]!));
        const res = await runSession(s, { input: xs[0]!, h0: xs[1]!, lengths: xs[2]! });
        outNames.forEach((n, i) => {
          expect(res[n]!.shape).toEqual(ref[i]!.shape);
          const a = ref[i]!.dataSync(), o = res[n]!.dataSync();
          for (let j = 0; j < a.length; j++) w = Math.max(w, Math.abs(a[j]! - Number(o[j])) / Math.max(1, Math.abs(a[j]!)));
        });
      }
      worst.push(w);
    }
    figures.push(`lengths → sequence_lens (GRU 2-layer bidir, LSTM peephole batchFirst bidir, RNN relu bidir): ${worst.map((w) => w.toExponential(2)).join(', ')}`);
    expect(Math.max(...worst)).toBeLessThan(1e-4);
  });

  it('a ManyToOne classifier with lengths exports and matches ORT', async () => {
    const m = new ManyToOne(3, 2, { cell: 'gru', hiddenSize: 4, bidirectional: true, numLayers: 2, generator: new Generator(9) }).eval();
    const lens = (l: number[]) => tensor(Int32Array.from(l));
    const bytes = exportOnnx(m, [randn([6, 3, 3]), lens([6, 2, 4])], {
      inputNames: ['input', 'lengths'], dynamicAxes: { input: { 0: 'seq', 1: 'batch' }, lengths: { 0: 'batch' }, output: { 0: 'batch' } },
    });
    const s = await createSession(bytes, { backend: 'node' });
    const x = randn([8, 4, 3]);
    const l = lens([8, 1, 5, 3]);
    const res = await runSession(s, { input: x, lengths: l });
    expectClose(res.output!, noGrad(() => m.forward(x, l)), { atol: 1e-5, rtol: 1e-4 });
  });

  it('refuses what ONNX cannot express', () => {
    const m = new Flat(new LSTM(3, 4, { projSize: 2 }), false);
    expect(() => exportOnnx(m, [randn([5, 2, 3])])).toThrow(/LSTM with projSize 2 has no ONNX equivalent/);
    const gru = new GRU(3, 4);
    const withLengths = { forward: (x: Tensor) => gru.forward(x, null, { lengths: [5, 3] }), eval: () => gru.eval() };
    expect(() => exportOnnx(withLengths, [randn([5, 2, 3])])).toThrow(/GRU: lengths given as an array cannot be exported; pass them as an int32 tensor/);
  });

  it('reports the worst relative differences', () => {
    console.info(`ORT parity (max |kiln−ort|/max(1,|kiln|)):\n  ${figures.join('\n  ')}`);
    expect(figures.length).toBe(cases.length + 1);
  });
});
