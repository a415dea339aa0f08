/**
 * Attention and Transformer layers: scaledDotProductAttention against explicit loops, masks,
 * float64 gradchecks (attention, MHA, an encoder and a decoder layer), the sinusoidal table
 * against the course's formula, the export-friendly head split, and bad input.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, manualSeed, randn, traceOps, tensor } from '@kiln/tensor';
import { checkGrad, randomInput } from '@kiln/tensor/testing';
import { gradcheckModule } from '@kiln/nn';
import {
  LearnedPositionalEncoding, MultiheadAttention, PositionalEncoding, Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
  TransformerEncoderLayer, TransformerSeq2Seq, causalMask, generateSquareSubsequentMask, scaledDotProductAttention, sinusoidalPositionalEncoding,
} from './index.js';

/** softmax(q·kᵀ/√d + mask)·v with loops, for one [L, D] × [S, D] slice. */
function naive(q: number[][], k: number[][], v: number[][], masked: (i: number, j: number) => boolean): number[][] {
  const d = q[0]!.length;
  return q.map((qi, i) => {
    const s = k.map((kj, j) => (masked(i, j) ? -Infinity : qi.reduce((a, x, t) => a + x * kj[t]!, 0) / Math.sqrt(d)));
    const m = Math.max(...s);
    const e = s.map((x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    return v[0]!.map((_, c) => e.reduce((a, w, j) => a + (w / z) * v[j]![c]!, 0));
  });
}

const rows = (t: Tensor): number[][] => t.toArray() as number[][];

describe('scaledDotProductAttention', () => {
  it('equals explicit loops with a bool mask (true = masked out) and with causal; a float mask is added', () => {
    manualSeed(1);
    const q = randn([3, 4], { dtype: 'float64' }), k = randn([5, 4], { dtype: 'float64' }), v = randn([5, 2], { dtype: 'float64' });
    const maskArr = [[false, true, false, false, true], [true, false, false, true, false], [false, false, true, false, false]];
    const mask = tensor(maskArr, { dtype: 'bool' });
    const [o] = scaledDotProductAttention(q, k, v, { mask });
    const want = naive(rows(q), rows(k), rows(v), (i, j) => maskArr[i]![j]!);
    expect(o.toArray()).toEqual(want.map((r) => r.map((x) => expect.closeTo(x, 12))));
    const [oc, wc] = scaledDotProductAttention(q, k, v, { causal: true });
    expect(oc.toArray()).toEqual(naive(rows(q), rows(k), rows(v), (i, j) => j > i + 2).map((r) => r.map((x) => expect.closeTo(x, 12))));
    expect(wc.sum(-1).toArray()).toEqual([1, 1, 1].map((x) => expect.closeTo(x, 12)));
    const additive = tensor(maskArr.map((r) => r.map((m) => (m ? -Infinity : 0))), { dtype: 'float64' });
    expect(scaledDotProductAttention(q, k, v, { mask: additive })[0].toArray()).toEqual(o.toArray());
  });

  it('float64 gradcheck with a batch/head broadcast mask', () => {
    const q = randomInput([2, 2, 3, 4], 1), k = randomInput([2, 2, 4, 4], 2), v = randomInput([2, 2, 4, 3], 3);
    const mask = causalMask(3, 4);
    expect(() => causalMask(2.5)).toThrow(/^Kiln: causalMask: L must be an integer ≥ 0, got 2\.5$/);
    checkGrad((a, b, c) => scaledDotProductAttention(a, b, c, { mask })[0], [q, k, v]);
  });

  it('rejects masks of the wrong shape or dtype, and bad tensors', () => {
    const q = randn([2, 3, 4]), k = randn([2, 5, 4]), v = randn([2, 5, 4]);
    expect(() => scaledDotProductAttention(q, k, v, { mask: randn([3, 4]).gt(0) })).toThrow(/scaledDotProductAttention: mask of shape \[3,4\] does not broadcast to the attention scores \[2,3,5\]/);
    expect(() => scaledDotProductAttention(q, k, v, { mask: tensor([1, 0, 1, 0, 1], { dtype: 'int32' }) })).toThrow(/scaledDotProductAttention: mask must be bool .* got int32 \[5\]/);
    expect(() => scaledDotProductAttention(q, randn([2, 5, 3]), v)).toThrow(/q \[2,3,4\] and k \[2,5,3\] must share the last dim/);
    expect(() => scaledDotProductAttention(q, k, v, { causal: 1 } as never)).toThrow(/scaledDotProductAttention/);
  });
});

describe('MultiheadAttention', () => {
  it('is PyTorch-shaped: state-dict keys, [L, B, E] by default, weights averaged or per head, unbatched input', () => {
    manualSeed(2);
    const m = new MultiheadAttention(8, 2);
    expect(Object.keys(m.stateDict()).sort()).toEqual(['in_proj_bias', 'in_proj_weight', 'out_proj.bias', 'out_proj.weight']);
    const x = randn([5, 3, 8]);
    const [o, w] = m.forward(x, x, x);
    expect(o.shape).toEqual([5, 3, 8]);
    expect(w!.shape).toEqual([3, 5, 5]);
    expect(m.forward(x, x, x, { averageAttnWeights: false })[1]!.shape).toEqual([3, 2, 5, 5]);
    expect(m.forward(x, x, x, { needWeights: false })[1]).toBeNull();
    const [ou] = m.forward(x.slice(1, 1, 2).squeeze(1), x.slice(1, 1, 2).squeeze(1), x.slice(1, 1, 2).squeeze(1));
    expect(ou.toArray()).toEqual((o.slice(1, 1, 2).squeeze(1).toArray() as number[][]).map((r) => r.map((v) => expect.closeTo(v, 5))));
  });

  it('the traced head split (slices, for ONNX) gives the same numbers as reshape/permute', () => {
    manualSeed(3);
    const m = new MultiheadAttention(12, 3, { batchFirst: true });
    const x = randn([2, 4, 12]);
    const [plain] = m.forward(x, x, x, { isCausal: true });
    const traced = traceOps({ record: () => {} }, () => m.forward(x, x, x, { isCausal: true })[0]);
    expect(traced.toArray()).toEqual(plain.toArray());
  });

  it('float64 gradcheck (inputs and every parameter, key padding)', () => {
    manualSeed(4);
    const m = new MultiheadAttention(4, 2, { batchFirst: true, dtype: 'float64' });
    const q = randomInput([2, 3, 4], 5), kv = randomInput([2, 4, 4], 6);
    const kpm = tensor([[false, false, false, true], [false, false, true, true]], { dtype: 'bool' });
    const r = gradcheckModule({ forward: (a: Tensor, b: Tensor) => m.forward(a, b, b, { keyPaddingMask: kpm })[0], parameters: () => m.parameters(), double: () => m } as never, [q, kv]);
    expect(r.ok, `relative error ${r.relativeError}`).toBe(true);
  });

  it('rejects bad options and shapes with the layer and shapes named', () => {
    expect(() => new MultiheadAttention(10, 3)).toThrow(/MultiheadAttention: embedDim \(10\) must be divisible by numHeads \(3\)/);
    expect(() => new MultiheadAttention(8, 2, { heads: 2 } as never)).toThrow(/MultiheadAttention/);
    const m = new MultiheadAttention(8, 2, { batchFirst: true });
    const x = randn([2, 3, 8]);
    expect(() => m.forward(x, x, x, { keyPaddingMask: tensor([true, false, false], { dtype: 'bool' }) })).toThrow(/keyPaddingMask must be \[2,3\] \(batch, key length\), got bool \[3\]/);
    expect(() => m.forward(x, x, x, { attnMask: randn([3, 4]).gt(0) })).toThrow(/attnMask of shape \[3,4\] does not broadcast to the attention scores \[2,2,3,3\]/);
    expect(() => m.forward(x, x, x, { attnMask: randn([5, 3, 3]) })).toThrow(/3-d attnMask must be \[B·numHeads = 4, 3, 3\], got \[5,3,3\]/);
    expect(() => m.forward(x, x, x, { attnMask: randn([3, 3], { dtype: 'float64' }) })).toThrow(/attnMask must be bool .* or float32/);
    expect(() => m.forward(randn([2, 3, 6]), x, x)).toThrow(/MultiheadAttention: query must be \[B, L, E\] .* E = 8, got float32 \[2,3,6\]/);
    expect(() => m.forward(x, randn([3, 3, 8]), randn([3, 3, 8]))).toThrow(/must match the query's batch \(2\)/);
  });
});

describe('Transformer layers', () => {
  it('float64 gradcheck of one encoder layer (post-norm, gelu) and one decoder layer (normFirst, relu)', () => {
    manualSeed(5);
    const enc = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, activation: 'gelu', batchFirst: true, dtype: 'float64' });
    const x = randomInput([2, 3, 4], 7);
    const kpm = tensor([[false, false, true], [false, false, false]], { dtype: 'bool' });
    const re = gradcheckModule({ forward: (a: Tensor) => enc.forward(a, { srcKeyPaddingMask: kpm }), parameters: () => enc.parameters(), double: () => enc } as never, [x], (y) => y.mul(randomInput([2, 3, 4], 8).detach()).sum());
    expect(re.ok, `encoder: ${re.relativeError}`).toBe(true);
    const dec = new TransformerDecoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst: true, batchFirst: true, dtype: 'float64' });
    const t = randomInput([2, 3, 4], 9), mem = randomInput([2, 2, 4], 10);
    const rd = gradcheckModule({ forward: (a: Tensor, b: Tensor) => dec.forward(a, b, { tgtIsCausal: true }), parameters: () => dec.parameters(), double: () => dec } as never, [t, mem], (y) => y.mul(randomInput([2, 3, 4], 11).detach()).sum());
    expect(rd.ok, `decoder: ${rd.relativeError}`).toBe(true);
  });

  it('dropout is active in training and off in eval; stacks take factories; generateSquareSubsequentMask', () => {
    manualSeed(6);
    const enc = new TransformerEncoder(() => new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.5 }), 2);
    expect(Object.keys(enc.stateDict())).toContain('layers.1.self_attn.in_proj_weight');
    const x = randn([4, 2, 8]);
    expect(enc.forward(x).toArray()).not.toEqual(enc.forward(x).toArray());
    enc.eval();
    expect(enc.forward(x).toArray()).toEqual(enc.forward(x).toArray());
    expect(() => new TransformerEncoder(new TransformerEncoderLayer(8, 2) as never, 2)).toThrow(/TransformerEncoder: pass a factory \(\) => new TransformerEncoderLayer/);
    expect(() => new TransformerDecoder(() => new TransformerDecoderLayer(8, 2), 0)).toThrow(/TransformerDecoder: numLayers must be an integer ≥ 1, got 0/);
    expect(() => new TransformerEncoderLayer(6, 4)).toThrow(/TransformerEncoderLayer: dModel \(6\) must be divisible by nhead \(4\)/);
    expect(() => new Transformer({ dModel: 8, nhead: 2, activation: 'tanh' } as never)).toThrow(/Transformer/);
    expect(generateSquareSubsequentMask(3).toArray()).toEqual([[0, -Infinity, -Infinity], [0, 0, -Infinity], [0, 0, 0]]);
  });
});

describe('positional encodings', () => {
  it('sinusoidal: sin on even dims, cos on odd dims, pairs share pos/10000^(2i/d) (the course formula)', () => {
    const d = 6, pe = sinusoidalPositionalEncoding(10, d, 'float64').toArray() as number[][];
    for (let pos = 0; pos < 10; pos++) {
      for (let i = 0; i < d / 2; i++) {
        const a = pos / 10000 ** ((2 * i) / d);
        expect(pe[pos]![2 * i]).toBeCloseTo(Math.sin(a), 14);
        expect(pe[pos]![2 * i + 1]).toBeCloseTo(Math.cos(a), 14);
      }
    }
    const layer = new PositionalEncoding(6, { maxLen: 10, batchFirst: true });
    const x = randn([2, 4, 6]);
    const y = layer.forward(x, { offset: 3 }).sub(x).toArray() as number[][][];
    expect(y[1]![2]![1]).toBeCloseTo(pe[5]![1]!, 6);
    expect(Object.keys(layer.stateDict())).toEqual(['pe']);
    expect(() => layer.forward(x, { offset: 7 })).toThrow(/PositionalEncoding: positions 7..10 exceed maxLen 10/);
    const learned = new LearnedPositionalEncoding(6, { maxLen: 10, batchFirst: true });
    expect(learned.parameters().length).toBe(1);
    expect(() => learned.forward(randn([2, 4, 5]))).toThrow(/LearnedPositionalEncoding: input must be \[B, T, E\] with E = 6, got \[2,4,5\]/);
    expect(() => new TransformerSeq2Seq(10, 10, { dModel: 8, positions: 'rotary' } as never)).toThrow(/TransformerSeq2Seq/);
  });
});
