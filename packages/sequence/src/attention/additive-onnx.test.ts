import { describe, expect, it } from 'vitest';
import { Generator, randn, type Tensor } from '@kiln/tensor';
import { Module } from '@kiln/nn';
import { compareWithOrt, decodeModel } from '@kiln/onnx';
import { AdditiveAttention } from './additive.js';

/** forward(query, keys) → [context, weights], with the padding lengths fixed at export. */
class Wrapped extends Module {
  constructor(readonly att: AdditiveAttention, readonly lengths?: number[]) { super(); }
  override forward(q: Tensor, k: Tensor): Tensor[] {
    return this.att.forward(q, k, this.lengths ? { lengths: this.lengths } : {});
  }
}

describe('AdditiveAttention on ONNX Runtime', () => {
  it('context and weights match ORT within 1e-5 (with and without padding)', async () => {
    const att = new AdditiveAttention(6, 8, 5, { generator: new Generator(3) });
    const q = randn([3, 6]), k = randn([3, 7, 8]);
    for (const lengths of [undefined, [7, 4, 1]]) {
      const r = await compareWithOrt(new Wrapped(att, lengths), [q, k], { dynamicAxes: {} });
      const ops = decodeModel(r.bytes).graph!.node!.map((n) => n.opType!);
      expect(ops).toContain('Tanh');
      expect(ops).toContain('Softmax');
      expect(r.maxAbsDiff).toBeLessThan(1e-5);
      if (lengths) expect(Array.from(r.ort[1]!.dataSync().slice(14, 21))).toEqual([1, 0, 0, 0, 0, 0, 0]);
    }
  });
});
