/**
 * Issue 8, 1-D and 3-D (4.4.2.6): a 1-D CNN learns the ECG-like beats of @kiln/data's ecgBeats
 * and a 3-D CNN the motion clips of movingShapes, each to a stated held-out accuracy.
 */
import { describe, it, expect } from 'vitest';
import { manualSeed, type Tensor } from '@kiln/tensor';
import { Sequential, Conv1d, Conv3d, BatchNorm1d, BatchNorm3d, MaxPool1d, MaxPool3d, ReLU, Flatten, Linear, crossEntropy, type Module } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import { DataLoader, TensorDataset, ecgBeats, movingShapes, accuracy, predictions } from '@kiln/data';
import { fit, evaluate } from '@kiln/train';

const metrics = { accuracy: (o: Tensor, y: Tensor) => accuracy(predictions(o), y) };

async function trainAndScore(model: Module, train: { x: Tensor; y: Tensor }, test: { x: Tensor; y: Tensor }, epochs: number, lr: number): Promise<number> {
  const loader = new DataLoader(new TensorDataset(train.x, train.y), { batchSize: 32, shuffle: true, seed: 1 });
  await fit(model, { train: loader, loss: (o, y) => crossEntropy(o, y), optimizer: new Adam(model.parameters(), { lr }), epochs, progress: false });
  return evaluate(model, new DataLoader(new TensorDataset(test.x, test.y), { batchSize: 200 }), metrics).metrics.accuracy!;
}

describe('1-D CNN on ecgBeats', () => {
  it('classifies normal / PVC / ST-elevation beats at >= 95% held out', async () => {
    manualSeed(0);
    const train = ecgBeats(600, { seed: 1 }), test = ecgBeats(300, { seed: 2 });
    const model = new Sequential(
      new Conv1d(1, 8, 7, { padding: 3 }), new BatchNorm1d(8), new ReLU(), new MaxPool1d(2), // 128 → 64
      new Conv1d(8, 16, 5, { padding: 2 }), new BatchNorm1d(16), new ReLU(), new MaxPool1d(4), // → 16
      new Flatten(), new Linear(16 * 16, 3),
    );
    const acc = await trainAndScore(model, train, test, 6, 3e-3);
    console.log(`1-D CNN ecgBeats held-out accuracy ${(100 * acc).toFixed(1)}%`);
    expect(acc).toBeGreaterThanOrEqual(0.95);
  }); // a few seconds of CPU; the wall clock stretches on a shared machine
});

describe('3-D CNN on movingShapes', () => {
  it('classifies move-right / move-left / rotate-cw / rotate-ccw clips at >= 95% held out', async () => {
    manualSeed(0);
    const train = movingShapes(480, { seed: 1 }), test = movingShapes(200, { seed: 2 });
    const model = new Sequential(
      new Conv3d(1, 6, 3, { padding: 1 }), new BatchNorm3d(6), new ReLU(), new MaxPool3d([1, 2, 2]), // 8×16×16 → 8×8×8
      new Conv3d(6, 12, 3, { padding: 1 }), new ReLU(), new MaxPool3d(2), // → 4×4×4
      new Flatten(), new Linear(12 * 64, 4),
    );
    const acc = await trainAndScore(model, train, test, 6, 3e-3);
    console.log(`3-D CNN movingShapes held-out accuracy ${(100 * acc).toFixed(1)}%`);
    expect(acc).toBeGreaterThanOrEqual(0.95);
  }); // a few seconds of CPU; the wall clock stretches on a shared machine
});
