/**
 * Exploding gradients with the library's own RNN layer, trained by fit: a many-to-one ReLU RNN
 * must output, at step 50, the sign given at step 0 (the steps between are noise). With
 * W_hh = 1.1·I the state — and the gradient — grow ~1.1^50 ≈ 117× along the sequence.
 */
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, manualSeed, noGrad } from '@kiln/tensor';
import { Linear, Module } from '@kiln/nn';
import { SGD } from '@kiln/optim';
import { fit } from '@kiln/train';
import { RNN } from '../index.js';

class LastStep extends Module {
  rnn: RNN;
  head: Linear;
  constructor() {
    super();
    this.rnn = new RNN(1, 16, { nonlinearity: 'relu', batchFirst: true });
    this.head = new Linear(16, 1);
    noGrad(() => {
      const w = (this.rnn as unknown as Record<string, Tensor>).weight_hh_l0!, d = w.dataSync();
      d.fill(0);
      for (let i = 0; i < 16; i++) d[i * 16 + i] = 1.1;
    });
  }

  override forward(x: Tensor): Tensor {
    const [, h] = this.rnn.forward(x);
    return this.head.forward(h.reshape([x.shape[0]!, 16])).reshape([-1]);
  }
}

function firstSign(n: number, steps: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = new Float32Array(n * steps), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = g.random() < 0.5 ? -1 : 1;
    for (let t = 0; t < steps; t++) x[i * steps + t] = t === 0 ? y[i]! : (g.random() - 0.5) * 0.2;
  }
  return { x: new Tensor(x, [n, steps, 1], 'float32'), y: new Tensor(y, [n], 'float32') };
}

describe('gradient clipping with RNN (relu) on a 50-step task', () => {
  it('explodes without clipping and trains with clipGradNorm 1', async () => {
    const d = firstSign(64, 50, 12);
    const batches = [0, 16, 32, 48].map((i) => [d.x.narrow(0, i, 16), d.y.narrow(0, i, 16)]);
    const mse = (o: Tensor, y: Tensor) => o.sub(y).square().mean();
    const run = (clip: number, epochs: number) => {
      manualSeed(2);
      const m = new LastStep();
      return { m, h: fit(m, { train: batches, loss: mse, optimizer: new SGD(m.parameters(), { lr: 0.05 }), epochs, clipGradNorm: clip, progress: false }) };
    };
    await expect(run(Infinity, 5).h).rejects.toThrow(/Kiln: fit: loss became (Infinity|NaN) at epoch 1, batch [23]/);
    const { m, h: pending } = run(1, 40);
    const h = await pending;
    const out = noGrad(() => m.forward(d.x)).dataSync(), y = d.y.dataSync();
    let right = 0;
    for (let i = 0; i < y.length; i++) if (Math.sign(out[i]!) === y[i]) right++;
    console.log(`RNN(relu) clipping: largest pre-clip gradient norm epoch 1 ${h.gradNorm![0]!.toExponential(2)}, epoch 40 ${h.gradNorm![39]!.toExponential(2)}; loss ${h.trainLoss[0]!.toFixed(1)} → ${h.trainLoss[39]!.toFixed(3)}; sign accuracy ${(right / y.length).toFixed(3)}`);
    expect(h.gradNorm![0]!).toBeGreaterThan(1e3);
    expect(h.trainLoss[0]!).toBeGreaterThan(10);
    expect(h.trainLoss.at(-1)!).toBeLessThan(0.5);
    expect(right / y.length).toBeGreaterThanOrEqual(0.95);
  });
});
