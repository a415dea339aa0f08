import { describe, expect, it } from 'vitest';
import { Generator, tensor, Tensor } from '@kiln/tensor';
import { checkGrad, expectClose, randomInput } from '@kiln/tensor/testing';
import { GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, padSequence } from '../index.js';

const f64 = { dtype: 'float64' as const };
type Layer = RNN | GRU | LSTM;

/** Runs a layer; returns [output, hN, cN?] flattened. */
function runLayer(m: Layer, x: Tensor, h0: Tensor | null, c0: Tensor | null, lengths?: number[]): Tensor[] {
  const opts = lengths ? { lengths } : undefined;
  if (m instanceof LSTM) {
    const [o, [h, c]] = m.forward(x, h0 && c0 ? [h0, c0] : null, opts);
    return [o, h, c];
  }
  return m.forward(x, h0, opts);
}

/** gradcheck through the input, the initial states and every parameter of `m`. */
function gradcheckLayer(m: Layer, x: Tensor, h0: Tensor | null, c0: Tensor | null, lengths?: number[]): void {
  const params = m.namedParameters();
  const extra = [h0, c0].filter((t): t is Tensor => t !== null);
  checkGrad((...xs: Tensor[]) => {
    params.forEach(([name], i) => { (m as unknown as Record<string, Tensor>)[name] = xs[3 + i]!; });
    const outs = runLayer(m, xs[0]!, h0 ? xs[1]! : null, c0 ? xs[2]! : null, lengths);
    return outs.reduce((acc: Tensor, o, i) => acc.add(o.mul(o.add(i + 0.3)).sum()), outs[0]!.sum().mul(0));
  }, [x, h0 ?? x, c0 ?? x, ...params.map(([, p]) => p.detach().requiresGrad_())]);
  void extra;
}

describe('recurrent layers', () => {
  it('state-dict keys, order and shapes are PyTorch\'s (2-layer bidirectional LSTM with projection)', () => {
    const m = new LSTM(3, 5, { numLayers: 2, bidirectional: true, projSize: 2 });
    const keys = Object.entries(m.stateDict()).map(([k, v]) => `${k}:${v.shape.join('x')}`);
    expect(keys).toEqual([
      'weight_ih_l0:20x3', 'weight_hh_l0:20x2', 'bias_ih_l0:20', 'bias_hh_l0:20', 'weight_hr_l0:2x5',
      'weight_ih_l0_reverse:20x3', 'weight_hh_l0_reverse:20x2', 'bias_ih_l0_reverse:20', 'bias_hh_l0_reverse:20', 'weight_hr_l0_reverse:2x5',
      'weight_ih_l1:20x4', 'weight_hh_l1:20x2', 'bias_ih_l1:20', 'bias_hh_l1:20', 'weight_hr_l1:2x5',
      'weight_ih_l1_reverse:20x4', 'weight_hh_l1_reverse:20x2', 'bias_ih_l1_reverse:20', 'bias_hh_l1_reverse:20', 'weight_hr_l1_reverse:2x5',
    ]);
    const g = new GRU(4, 6, { bias: false });
    expect(Object.keys(g.stateDict())).toEqual(['weight_ih_l0', 'weight_hh_l0']);
    const p = new LSTM(2, 3, { peephole: true });
    expect(Object.keys(p.stateDict())).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_peep_l0']);
  });

  it('default init is U(±1/√hidden) on every parameter', () => {
    const m = new GRU(7, 16, { numLayers: 2, generator: new Generator(3) });
    for (const p of m.parameters()) {
      const d = p.dataSync();
      const max = Math.max(...Array.from(d, Math.abs));
      expect(max).toBeLessThanOrEqual(0.25);
      expect(max).toBeGreaterThan(0.2);
    }
  });

  it('output and state shapes follow PyTorch (batchFirst, bidirectional, unbatched, projection)', () => {
    const lstm = new LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true, projSize: 2 });
    const [o, [h, c]] = lstm.forward(randomInput([5, 7, 3], 1).float());
    expect([o.shape, h.shape, c.shape]).toEqual([[5, 7, 4], [4, 5, 2], [4, 5, 4]]);
    const gru = new GRU(3, 4, { numLayers: 3 });
    const [go, gh] = gru.forward(randomInput([7, 3], 2).float());
    expect([go.shape, gh.shape]).toEqual([[7, 4], [3, 4]]);
    const rnn = new RNN(3, 4, { bidirectional: true });
    const [ro, rh] = rnn.forward(randomInput([6, 2, 3], 3).float());
    expect([ro.shape, rh.shape]).toEqual([[6, 2, 8], [2, 2, 4]]);
    // The last step of the forward direction is hN[0]; the reverse direction's hN is its step 0.
    expectClose(ro.narrow(0, 5, 1).narrow(2, 0, 4).reshape([2, 4]), rh.narrow(0, 0, 1).reshape([2, 4]));
    expectClose(ro.narrow(0, 0, 1).narrow(2, 4, 4).reshape([2, 4]), rh.narrow(0, 1, 1).reshape([2, 4]));
  });

  const layers: Array<[string, () => Layer, boolean]> = [
    ['RNN tanh, 2 layers, bidirectional', () => new RNN(3, 3, { numLayers: 2, bidirectional: true, ...f64 }), false],
    ['RNN relu, no bias', () => new RNN(3, 4, { nonlinearity: 'relu', bias: false, ...f64 }), false],
    ['GRU 2 layers, bidirectional', () => new GRU(3, 3, { numLayers: 2, bidirectional: true, ...f64 }), false],
    ['GRU course variant, bidirectional', () => new GRU(3, 3, { variant: 'course', bidirectional: true, ...f64 }), false],
    ['LSTM 2 layers, bidirectional', () => new LSTM(3, 3, { numLayers: 2, bidirectional: true, ...f64 }), true],
    ['LSTM projection + peephole, batchFirst', () => new LSTM(3, 4, { projSize: 2, peephole: true, batchFirst: true, ...f64 }), true],
  ];
  for (const [label, make, lstm] of layers) {
    it(`${label}: float64 gradcheck (input, h0${lstm ? ', c0' : ''}, every weight), with and without lengths`, () => {
      const m = make();
      const D = m.numDirections * m.numLayers;
      const x = m.batchFirst ? randomInput([3, 4, 3], 5) : randomInput([4, 3, 3], 5);
      const h0 = randomInput([D, 3, m.stateSize], 6);
      const c0 = lstm ? randomInput([D, 3, m.hiddenSize], 7) : null;
      gradcheckLayer(m, x, h0, c0);
      gradcheckLayer(make(), x, h0, c0, [2, 4, 1]);
    });

    it(`${label}: a padded batch with lengths equals each sequence run alone`, () => {
      const m = make();
      const D = m.numDirections * m.numLayers;
      const lens = [2, 4, 1];
      const seqs = lens.map((l, i) => randomInput([l, 3], 10 + i).detach());
      const xs = padSequence(seqs, { batchFirst: m.batchFirst });
      const h0 = randomInput([D, 3, m.stateSize], 8).detach();
      const c0 = lstm ? randomInput([D, 3, m.hiddenSize], 9).detach() : null;
      const [out, h, c] = runLayer(m, xs, h0, c0, lens);
      lens.forEach((l, b) => {
        const pick = (s: Tensor | null | undefined) => (s ? s.narrow(1, b, 1).reshape([D, s.shape[2]!]) : null);
        const [o1, h1, c1] = runLayer(m, seqs[b]!, pick(h0), pick(c0));
        const ob = m.batchFirst ? out!.narrow(0, b, 1).reshape([4, out!.shape[2]!]) : out!.narrow(1, b, 1).reshape([4, out!.shape[2]!]);
        expectClose(ob.narrow(0, 0, l), o1!, { atol: 1e-12 });
        if (l < 4) expect(Array.from(ob.narrow(0, l, 4 - l).dataSync()).every((v) => v === 0)).toBe(true);
        expectClose(pick(h)!, h1!, { atol: 1e-12 });
        if (c) expectClose(pick(c)!, c1!, { atol: 1e-12 });
      });
    });
  }

  it('dropout between layers acts only in training and never after the last layer', () => {
    const m = new GRU(2, 3, { numLayers: 2, dropout: 0.5, generator: new Generator(1) });
    const x = randomInput([4, 2, 2], 1).float().detach();
    const [a] = m.forward(x);
    const [b] = m.forward(x);
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(b.dataSync()));
    m.eval();
    const [c] = m.forward(x);
    const [d] = m.forward(x);
    expect(Array.from(c.dataSync())).toEqual(Array.from(d.dataSync()));
    const single = new GRU(2, 3, { dropout: 0.5 });
    const [e] = single.forward(x);
    const [f] = single.forward(x);
    expect(Array.from(e.dataSync())).toEqual(Array.from(f.dataSync()));
  });

  it('the course GRU follows its equations (reset before W_hn, h\' = Γu⊙h̃ + (1−Γu)⊙h)', () => {
    const cell = new GRUCell(2, 2, { variant: 'course', ...f64 });
    const x = randomInput([1, 2], 3).detach();
    const h = randomInput([1, 2], 4).detach();
    const W = cell.weight_ih.dataSync(), U = cell.weight_hh.dataSync(), bi = cell.bias_ih!.dataSync(), bh = cell.bias_hh!.dataSync();
    const xv = x.dataSync(), hv = h.dataSync();
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const aff = (M: ArrayLike<number>, row: number, v: ArrayLike<number>) => M[row * 2]! * v[0]! + M[row * 2 + 1]! * v[1]!;
    const r = [0, 1].map((j) => sig(aff(W, j, xv) + bi[j]! + aff(U, j, hv) + bh[j]!));
    const u = [0, 1].map((j) => sig(aff(W, 2 + j, xv) + bi[2 + j]! + aff(U, 2 + j, hv) + bh[2 + j]!));
    const rh = [r[0]! * hv[0]!, r[1]! * hv[1]!];
    const cand = [0, 1].map((j) => Math.tanh(aff(W, 4 + j, xv) + bi[4 + j]! + aff(U, 4 + j, rh) + bh[4 + j]!));
    expectClose(cell.forward(x, h), [[0, 1].map((j) => u[j]! * cand[j]! + (1 - u[j]!) * hv[j]!)], { atol: 1e-12 });
  });

  it('cells equal a one-step layer with the same weights, and gradcheck in float64', () => {
    const x = randomInput([3, 2], 1);
    const h = randomInput([3, 4], 2);
    const c = randomInput([3, 4], 3);
    for (const [cell, layer] of [
      [new RNNCell(2, 4, { nonlinearity: 'relu', ...f64 }), new RNN(2, 4, { nonlinearity: 'relu', ...f64 })],
      [new GRUCell(2, 4, f64), new GRU(2, 4, f64)],
      [new GRUCell(2, 4, { variant: 'course', ...f64 }), new GRU(2, 4, { variant: 'course', ...f64 })],
      [new LSTMCell(2, 4, { peephole: true, ...f64 }), new LSTM(2, 4, { peephole: true, ...f64 })],
    ] as const) {
      const sd = Object.fromEntries(Object.entries(cell.stateDict()).map(([k, v]) => [`${k}_l0`, v]));
      layer.loadStateDict(sd);
      const isLstm = cell instanceof LSTMCell;
      const got = isLstm ? (cell as LSTMCell).forward(x, [h, c]) : [(cell as RNNCell).forward(x, h)];
      const ref = runLayer(layer as Layer, x.unsqueeze(0), h.unsqueeze(0), isLstm ? c.unsqueeze(0) : null);
      expectClose(got[0]!, ref[1]!.reshape([3, 4]), { atol: 1e-12 });
      if (isLstm) expectClose(got[1]!, ref[2]!.reshape([3, 4]), { atol: 1e-12 });
      const params = cell.namedParameters();
      checkGrad((xi: Tensor, hi: Tensor, ci: Tensor, ...ps: Tensor[]) => {
        params.forEach(([name], i) => { (cell as unknown as Record<string, Tensor>)[name] = ps[i]!; });
        const outs = isLstm ? (cell as LSTMCell).forward(xi, [hi, ci]) : [(cell as RNNCell).forward(xi, hi)];
        return outs.reduce((acc: Tensor, o) => acc.add(o.mul(o.add(0.7)).sum()), xi.sum().mul(0));
      }, [x, h, c, ...params.map(([, p]) => p.detach().requiresGrad_())]);
    }
    // Unbatched
    const cell = new LSTMCell(2, 4);
    const [h1, c1] = cell.forward(tensor([0.5, -1]));
    expect([h1.shape, c1.shape]).toEqual([[4], [4]]);
  });

  it('bad input: errors name the layer, the argument and the shapes', () => {
    const lstm = new LSTM(3, 4, { numLayers: 2, bidirectional: true });
    const x = randomInput([5, 2, 3], 1).float().detach();
    expect(() => lstm.forward(randomInput([5, 2, 4], 1).float())).toThrow('Kiln: LSTM: input must be [T, B, 3] or unbatched [T, 3], got [5,2,4]');
    expect(() => lstm.forward(randomInput([5], 1).float())).toThrow(/LSTM: input must be/);
    const h0 = randomInput([2, 2, 4], 1).float();
    expect(() => lstm.forward(x, [h0, h0])).toThrow('Kiln: LSTM: h0 must have shape [4,2,4] (numLayers·directions = 2·2, batch 2, size 4), got [2,2,4]');
    expect(() => lstm.forward(x, null, { lengths: [6, 2] })).toThrow('Kiln: LSTM: lengths[0] = 6 must be in 1..5 (the sequence length of input [5,2,3])');
    expect(() => lstm.forward(x, null, { lengths: [0, 2] })).toThrow(/lengths\[0\] = 0 must be in 1\.\.5/);
    expect(() => lstm.forward(x, null, { lengths: [3] })).toThrow(/lengths has 1 entries but the batch has 2/);
    expect(() => new GRU(3, 4, { numLayer: 2 } as never)).toThrow("Kiln: GRU: unknown option 'numLayer'");
    expect(() => new RNN(3, 4, { nonlinearity: 'sigmoid' } as never)).toThrow("Kiln: RNN: option 'nonlinearity' must be one of 'tanh', 'relu', got 'sigmoid'");
    expect(() => new LSTM(3, 4, { projSize: 4 })).toThrow(/projSize must be smaller than hiddenSize 4/);
    expect(() => new GRU(0, 4)).toThrow(/GRU: inputSize must be an integer ≥ 1, got 0/);
    expect(() => new LSTM(3, 4, { dropout: 1.5 })).toThrow("Kiln: LSTM: option 'dropout' must be a number in [0, 1], got 1.5");
    expect(() => new LSTM(3, 4).forward(x, null, { lengths: 5 } as never)).toThrow("Kiln: LSTM: option 'lengths' must be an array of lengths or a 1-d tensor, got 5");
    expect(() => new GRUCell(3, 4).forward(randomInput([2, 3], 1).float(), randomInput([3, 4], 1).float())).toThrow(/GRUCell: h must have shape \[2,4\]/);
  });
});
