/**
 * What attention stores for later survives a step scope (`keep`): `MultiheadAttention`'s
 * `lastWeights` after `fit` (which runs each step in `stepScope`), and the key/value cache
 * when each decoding step runs in its own scope. Sizes are chosen so the tensors involved are
 * over the 4 KiB from which a scope puts them in Wasm memory blocks.
 */
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, manualSeed, noGrad, randn, stepScope, tensor } from '@kiln/tensor';
import { Linear, Module, crossEntropy } from '@kiln/nn';
import { SGD } from '@kiln/optim';
import { fit } from '@kiln/train';
import { MultiheadAttention, TransformerSeq2Seq } from './index.js';
import { BOS_ID, padTokens } from './tasks.js';

const bits = (t: Tensor) => Array.from(new Int32Array(Float32Array.from(t.dataSync()).buffer));

/** Self-attention over [B, 16, 32] then a mean over positions and a linear head. */
class Classifier extends Module {
  readonly attn = new MultiheadAttention(32, 4, { batchFirst: true });
  readonly head = new Linear(32, 3);
  override forward(x: Tensor): Tensor {
    return this.head.forward(this.attn.forward(x, x, x)[0].mean(1));
  }
}

describe('attention state kept out of step scopes', () => {
  it('MultiheadAttention storeWeights: lastWeights is readable after fit and equals a run without the scope', async () => {
    const batches = [0, 1, 2].map((i): [Tensor, Tensor] => {
      manualSeed(50 + i);
      return [randn([8, 16, 32]), tensor(Int32Array.from({ length: 8 }, (_, k) => (k + i) % 3), { dtype: 'int32' })];
    });
    const run = async (scoped: boolean): Promise<Classifier> => {
      manualSeed(11);
      const m = new Classifier();
      m.attn.storeWeights = true;
      await fit(m, { train: batches, dev: batches.slice(0, 1), loss: (o, y) => crossEntropy(o, y), optimizer: new SGD(m.parameters(), { lr: 0.05 }), epochs: 2, progress: false, stepScope: scoped });
      return m;
    };
    const scoped = await run(true), plain = await run(false);
    const w = scoped.attn.lastWeights!; // [B, H, L, S] of the last forward: the dev batch
    expect(w.shape).toEqual([8, 4, 16, 16]); // 32 KiB
    expect(bits(w)).toEqual(bits(plain.attn.lastWeights!));
    const rowSums = w.sum(-1).dataSync();
    for (const s of rowSums) expect(s).toBeCloseTo(1, 5);
    expect(scoped.parameters().map(bits)).toEqual(plain.parameters().map(bits));
  });

  it('the key/value cache survives a step scope around each decoding step: same logits as unscoped', () => {
    manualSeed(5);
    const m = new TransformerSeq2Seq(11, 13, { dModel: 64, nhead: 4, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 64, padIdx: 0, generator: new Generator(2) }).eval();
    const src = padTokens(Array.from({ length: 4 }, (_, b) => Array.from({ length: 20 }, (_, i) => 3 + ((i * 7 + b) % 8))));
    const decode = (scoped: boolean): { logits: number[][]; key: Tensor } => noGrad(() => {
      const memory = m.encode(src), kp = m.srcPaddingMask(src);
      const cache = m.decoder.newCache();
      const logits: number[][] = [];
      let tok = Array<number>(4).fill(BOS_ID);
      for (let t = 0; t < 8; t++) {
        const input = new Tensor(Int32Array.from(tok), [4, 1], 'int32');
        const step = () => m.decodeStep(input, memory, cache, kp);
        const l = scoped ? stepScope(step) : step();
        logits.push(bits(l));
        tok = tok.map((_, b) => 3 + ((t + b) % 9));
      }
      return { logits, key: cache.layers[0]!.self.key! };
    });
    const scoped = decode(true), plain = decode(false);
    expect(scoped.key.shape).toEqual([4, 4, 8, 16]); // 8 KiB, the cross-attention's [4, 4, 20, 16] 20 KiB
    expect(scoped.logits).toEqual(plain.logits);
    expect(bits(scoped.key)).toEqual(bits(plain.key));
  });
});
