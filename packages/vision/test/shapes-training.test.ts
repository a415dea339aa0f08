/**
 * Issue 8, "training for real": the zoo's ResNet-18 (torchvision layout, widths ÷8, zero-initialised
 * residual branches) learns @kiln/data's colour shapes (32×32; circle / square / triangle / star)
 * to >= 95% held out (measured 97.5%; about a minute of CPU, 8 epochs of 2,400 images).
 * MobileNetV2 at its torchvision defaults (17 blocks down to 1×1, a 1280-wide head) sits near
 * chance on this set for epochs — PyTorch's own torchvision mobilenet_v2(width_mult=0.25) with this
 * recipe reached 31% after 8 epochs too — so the test reduces it the way small-image variants do:
 * widthMult 0.5, 8 blocks ending at 2×2, a 256-wide head (0.07 M parameters). It then reaches
 * >= 95% in 6 epochs (measured 97.3%; ~45 s of CPU).
 */
import { describe, it, expect } from 'vitest';
import { manualSeed, type Tensor } from '@kiln/tensor';
import { crossEntropy, type Module } from '@kiln/nn';
import { Adam, LRScheduler, cosineAnnealing } from '@kiln/optim';
import { DataLoader, TensorDataset, colorShapes, accuracy, predictions } from '@kiln/data';
import { fit, evaluate } from '@kiln/train';
import { mobilenetV2, resnet18 } from '../src/models/index.js';

const metrics = { accuracy: (o: Tensor, y: Tensor) => accuracy(predictions(o), y) };
const TARGET = 0.95;

async function trainOnShapes(model: Module, epochs: number, lr: number): Promise<number> {
  const train = colorShapes(2400, { seed: 1 }), test = colorShapes(600, { seed: 2 });
  const optimizer = new Adam(model.parameters(), { lr });
  await fit(model, {
    train: new DataLoader(new TensorDataset(train.x, train.y), { batchSize: 32, shuffle: true, seed: 1 }),
    loss: (o, y) => crossEntropy(o, y), optimizer, epochs, progress: false,
    schedule: new LRScheduler(optimizer, cosineAnnealing(lr, epochs, lr * 0.05)),
  });
  return evaluate(model, new DataLoader(new TensorDataset(test.x, test.y), { batchSize: 200 }), metrics).metrics.accuracy!;
}

describe('zoo ResNet-18 on colour shapes (32×32)', () => {
  it(`reduced ResNet-18 (widths ÷8) reaches >= ${TARGET * 100}% held out`, async () => {
    manualSeed(0);
    const acc = await trainOnShapes(resnet18({ numClasses: 4, widthDivisor: 8, zeroInitResidual: true }), 8, 3e-3);
    console.log(`ResNet-18 ÷8 shapes held-out accuracy ${(100 * acc).toFixed(1)}%`);
    expect(acc).toBeGreaterThanOrEqual(TARGET);
  }); // ~60 s of CPU; the wall clock stretches on a shared machine
});

describe('zoo MobileNetV2 on colour shapes (32×32)', () => {
  it(`reduced MobileNetV2 (widthMult 0.5, 8 blocks, 256-wide head) reaches >= ${TARGET * 100}% held out`, async () => {
    manualSeed(0);
    const model = mobilenetV2({
      numClasses: 4, widthMult: 0.5, lastChannel: 256,
      invertedResidualSetting: [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1]],
    });
    const cpu = process.cpuUsage();
    const acc = await trainOnShapes(model, 6, 3e-3);
    const c = process.cpuUsage(cpu);
    console.log(`MobileNetV2 reduced shapes held-out accuracy ${(100 * acc).toFixed(1)}% (${((c.user + c.system) / 1e6).toFixed(0)} s CPU)`);
    expect(acc).toBeGreaterThanOrEqual(TARGET);
  });
});
