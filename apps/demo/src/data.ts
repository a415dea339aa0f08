import { TensorDataset, DataLoader, loadMnistSplits, normalize, accuracy, predictions } from '@kiln/data';
import type { Tensor } from '@kiln/tensor';

/**
 * The bundled 10,000 MNIST digits split (seeded) into 8,000 train, 1,000 dev and 1,000 test:
 * train fits the weights, dev chooses (the epoch early stopping keeps), test is looked at once, at
 * the end. Pixels are standardised with the mean and standard deviation of the training pixels
 * (applied unchanged to dev and test); `testRaw` keeps the test pixels in [0, 1] for pictures.
 */
export interface MnistSplits {
  trainX: Tensor; trainY: Tensor; devX: Tensor; devY: Tensor; testX: Tensor; testY: Tensor; testRaw: Tensor;
  mean: number; std: number;
}

export function mnistSplits(seed = 0): MnistSplits {
  const { train, dev, test } = loadMnistSplits({ seed });
  const { scaler, train: trainX, others: [devX, testX] } = normalize(train.images, dev.images, test.images);
  return {
    trainX, trainY: train.labels, devX: devX!, devY: dev.labels, testX: testX!, testY: test.labels, testRaw: test.images,
    mean: scaler.mean![0]!, std: scaler.std![0]!,
  };
}

export function loaders(s: MnistSplits, batchSize: number, flat: boolean): { train: DataLoader; dev: DataLoader } {
  const x = (t: Tensor) => (flat ? t.reshape([t.shape[0]!, 784]) : t);
  return {
    train: new DataLoader(new TensorDataset(x(s.trainX), s.trainY), { batchSize, shuffle: true, seed: 1 }),
    dev: new DataLoader(new TensorDataset(x(s.devX), s.devY), { batchSize: 500 }),
  };
}

/** Dev-set accuracy metric on logits. */
export const metrics = { accuracy: (out: Tensor, y: Tensor) => accuracy(predictions(out), y) };
