import { describe, expect, it } from 'vitest';
import { manualSeed, tensor, type Tensor } from '@kiln/tensor';
import { crossEntropy } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import { randomInts } from './common.js';
import { lenet5, mlp, paramCount, transformerTagger } from './kiln-models.js';

describe('bench models', () => {
  it('have the parameter counts of torch_job.py\'s models', () => {
    // Per encoder layer: in_proj 3·128·128 + 3·128, out_proj 128·128 + 128, linear1 128·512 + 512,
    // linear2 512·128 + 128, two LayerNorms 2·2·128; embedding 64·128; head 128·64 + 64.
    // PyTorch 1.13 counts 412,992 for its TransformerTagger (torch_job.py prints it as `params`).
    const layer = 3 * 128 * 128 + 3 * 128 + 128 * 128 + 128 + 128 * 512 + 512 + 512 * 128 + 128 + 4 * 128;
    expect(64 * 128 + 2 * layer + 128 * 64 + 64).toBe(412_992);
    manualSeed(0);
    expect(paramCount(mlp())).toBe(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    expect(paramCount(lenet5())).toBe(156 + 2416 + 48_120 + 10_164 + 850); // conv1, conv2, fc1, fc2, fc3
  });

  it('Transformer tagger: 412,992 parameters, [B, T, 64] logits, a first loss near ln 64 that training lowers', async () => {
    manualSeed(0);
    const model = await transformerTagger();
    expect(paramCount(model)).toBe(412_992);
    // No trainable positional table (a buffer), as in torch_job.py.
    expect(Object.keys(model.stateDict())).toContain('pos.pe');
    const B = 2, T = 64;
    const x = tensor(randomInts(B * T, 64, 3), { shape: [B, T] });
    const y = tensor(randomInts(B * T, 64, 4), { shape: [B * T] });
    const logits = model.forward(x) as Tensor;
    expect(logits.shape).toEqual([B, T, 64]);
    // Post-norm output into a freshly initialised head: logits near 0, loss within a few % of ln 64.
    const first = crossEntropy(logits.reshape(-1, 64), y).item();
    expect(Math.abs(first - Math.log(64))).toBeLessThan(0.4);
    // The bench's step (Adam lr 1e-3) fits the fixed batch: the loss falls.
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    let loss = first;
    for (let i = 0; i < 5; i++) {
      opt.zeroGrad();
      const l = crossEntropy((model.forward(x) as Tensor).reshape(-1, 64), y);
      l.backward();
      opt.step();
      loss = l.item();
    }
    expect(loss).toBeLessThan(first - 0.1);
  });
});
