/**
 * Issue 4's convergence tests: logistic regression, a 2-layer tanh network on the planar
 * "flower" data and LeNet-5 on a slice of MNIST each reach a stated accuracy on held-out data.
 * Seeds are fixed, so each run is the same run; the thresholds sit a little below what these
 * seeds reach (measured figures beside each), so a real regression fails and noise does not.
 */
import { describe, expect, it } from 'vitest';
import { Generator, manualSeed, tensor, type Tensor } from '@kiln/tensor';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Tanh, binaryCrossEntropyWithLogits, crossEntropy } from '@kiln/nn';
import { Adam, SGD } from '@kiln/optim';
import { DataLoader, TensorDataset, accuracy, loadMnist, planarFlower, predictions, takeRows } from '@kiln/data';
import { evaluate, fit } from './index.js';

/** Logistic regression, MNIST 3 vs 5 (flattened pixels): held-out accuracy (measured 93.75%). */
const LOGISTIC_MNIST_MIN_ACCURACY = 0.92;
/** Logistic regression on the flower cannot separate the petals (measured 47.5%; the course's ~47%). */
const LOGISTIC_FLOWER_MAX_ACCURACY = 0.6;
/** 2-layer network, 4 tanh hidden units, on the flower: accuracy on a fresh sample of the flower (measured 91%). */
const TANH_FLOWER_MIN_ACCURACY = 0.88;
/** LeNet-5 trained on 2,000 MNIST digits for 3 epochs: accuracy on 500 other digits (measured 93.4%). */
const LENET_MNIST_MIN_ACCURACY = 0.9;

const binaryAccuracy = (logits: Tensor, y: Tensor) => accuracy(predictions(logits, { threshold: 0 }), y);
const classAccuracy = (logits: Tensor, y: Tensor) => accuracy(predictions(logits), y);
const bce = (o: Tensor, y: Tensor) => binaryCrossEntropyWithLogits(o, y);

/** Points with [N, 1] float targets for binary cross-entropy. */
function binary(x: Tensor, labels: Tensor): [Tensor, Tensor] {
  return [x, tensor(Float32Array.from(labels.dataSync() as Int32Array), { shape: [labels.shape[0]!, 1] })];
}

/** Seeded, disjoint train/test rows of MNIST, optionally only some digits (relabelled 0..k-1). */
function mnistSlice(nTrain: number, nTest: number, seed: number, digits?: number[]) {
  const { images, labels } = loadMnist();
  const y = labels.dataSync() as Int32Array;
  const rows = Array.from(new Generator(seed).permutation(y.length)).filter((i) => !digits || digits.includes(y[i]!));
  if (rows.length < nTrain + nTest) throw new Error(`only ${rows.length} digits available`);
  const pick = (idx: number[]) => {
    const lab = Int32Array.from(idx, (i) => (digits ? digits.indexOf(y[i]!) : y[i]!));
    return { x: takeRows(images, idx), y: tensor(lab, { dtype: 'int32' }) };
  };
  return { train: pick(rows.slice(0, nTrain)), test: pick(rows.slice(nTrain, nTrain + nTest)) };
}

describe('convergence (issue 4)', () => {
  it(`logistic regression separates MNIST 3 from 5 (>= ${LOGISTIC_MNIST_MIN_ACCURACY * 100}% held out)`, async () => {
    manualSeed(0);
    const { train, test } = mnistSlice(1000, 400, 1, [3, 5]);
    const flat = (t: Tensor) => t.reshape([t.shape[0]!, 784]);
    const model = new Linear(784, 1);
    const [tx, ty] = binary(flat(train.x), train.y);
    const history = await fit(model, {
      train: new DataLoader(new TensorDataset(tx, ty), { batchSize: 50, shuffle: true, seed: 2 }),
      loss: bce, optimizer: new SGD(model.parameters(), { lr: 0.1 }), epochs: 30, progress: false,
    });
    const [ex, ey] = binary(flat(test.x), test.y);
    const { metrics } = evaluate(model, [[ex, ey]], { accuracy: binaryAccuracy });
    expect(history.trainLoss.at(-1)!).toBeLessThan(history.trainLoss[0]!);
    expect(metrics.accuracy!).toBeGreaterThanOrEqual(LOGISTIC_MNIST_MIN_ACCURACY);
  });

  it(`a 2-layer tanh network classifies the planar flower (>= ${TANH_FLOWER_MIN_ACCURACY * 100}%), logistic regression does not (<= ${LOGISTIC_FLOWER_MAX_ACCURACY * 100}%)`, async () => {
    const data = planarFlower(400, { seed: 1 }), fresh = planarFlower(400, { seed: 2 });
    const [x, y] = binary(data.x, data.y), [fx, fy] = binary(fresh.x, fresh.y);
    const train = [[x, y]]; // full batch, as in the course
    const run = async (model: Sequential | Linear, epochs: number, lr: number) => {
      await fit(model, { train, loss: bce, optimizer: new SGD(model.parameters(), { lr }), epochs, progress: false });
      return evaluate(model, [[fx, fy]], { accuracy: binaryAccuracy }).metrics.accuracy!;
    };
    manualSeed(0);
    const logistic = await run(new Linear(2, 1), 300, 0.5);
    manualSeed(0);
    const tanhNet = await run(new Sequential(new Linear(2, 4), new Tanh(), new Linear(4, 1)), 3000, 1.2);
    expect(logistic).toBeLessThanOrEqual(LOGISTIC_FLOWER_MAX_ACCURACY);
    expect(tanhNet).toBeGreaterThanOrEqual(TANH_FLOWER_MIN_ACCURACY);
  });

  it(`LeNet-5 learns a slice of MNIST (>= ${LENET_MNIST_MIN_ACCURACY * 100}% on 500 held-out digits)`, async () => {
    manualSeed(0);
    const { train, test } = mnistSlice(2000, 500, 3);
    const model = new Sequential(
      new Conv2d(1, 6, 5, { padding: 2 }), new ReLU(), new MaxPool2d(2),
      new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
      new Flatten(),
      new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
    );
    await fit(model, {
      train: new DataLoader(new TensorDataset(train.x, train.y), { batchSize: 32, shuffle: true, seed: 4 }),
      loss: (o, y) => crossEntropy(o, y), optimizer: new Adam(model.parameters(), { lr: 2e-3 }), epochs: 3, progress: false,
    });
    const { metrics } = evaluate(model, new DataLoader(new TensorDataset(test.x, test.y), { batchSize: 250 }), { accuracy: classAccuracy });
    expect(metrics.accuracy!).toBeGreaterThanOrEqual(LENET_MNIST_MIN_ACCURACY);
  });
});
