import { TensorDataset, DataLoader, loadMnist, normalize, randomSplit, takeRows, accuracy, predictions } from '@kiln/data';
import type { Tensor } from '@kiln/tensor';

/**
 * The bundled 10,000 MNIST digits: 8,000 for training and a held-out 2,000 for dev (seeded split),
 * standardised with the mean and standard deviation of the training pixels (applied unchanged to dev).
 */
export interface MnistSplits { trainX: Tensor; trainY: Tensor; devX: Tensor; devY: Tensor; mean: number; std: number }

export function mnistSplits(seed = 0): MnistSplits {
  const { images, labels } = loadMnist();
  const [train, dev] = randomSplit(new TensorDataset(images, labels), [8000, 2000], { seed });
  const { scaler, train: trainX, others: [devX] } = normalize(takeRows(images, train!.indices), takeRows(images, dev!.indices));
  return {
    trainX, trainY: takeRows(labels, train!.indices),
    devX: devX!, devY: takeRows(labels, dev!.indices),
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
