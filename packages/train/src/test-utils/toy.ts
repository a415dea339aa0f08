/** Small fixtures for the train tests: a seeded 3-class toy problem and weight snapshots. */
import { Generator, Tensor, manualSeed, randn, tensor } from '@kiln/tensor';
import { Linear, type Module, type StateDict } from '@kiln/nn';
import { DataLoader, TensorDataset, accuracy, predictions } from '@kiln/data';

/** n points in 3-D, labelled by the argmax of a fixed linear map (so a Linear(3, 3) can learn it). */
export function toyData(n: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = randn([n, 3], { generator: g });
  const w = [[1, -1, 0.5], [-0.5, 1, -1], [0.3, 0.2, 1]];
  const xs = x.toArray() as number[][];
  const y = xs.map((r) => {
    const s = [0, 1, 2].map((c) => r[0]! * w[0]![c]! + r[1]! * w[1]![c]! + r[2]! * w[2]![c]!);
    return s.indexOf(Math.max(...s));
  });
  return { x, y: tensor(Int32Array.from(y), { dtype: 'int32' }) };
}

/** A seeded Linear(3, 3) with train (24 rows, batches of 5: the last one holds 4) and dev (10 rows) loaders. */
export function toySetup(seed = 0): { model: Linear; train: DataLoader; dev: DataLoader; trainData: { x: Tensor; y: Tensor }; devData: { x: Tensor; y: Tensor } } {
  manualSeed(seed);
  const model = new Linear(3, 3);
  const trainData = toyData(24, seed + 1), devData = toyData(10, seed + 2);
  return {
    model, trainData, devData,
    train: new DataLoader(new TensorDataset(trainData.x, trainData.y), { batchSize: 5, shuffle: true, seed: seed + 3 }),
    dev: new DataLoader(new TensorDataset(devData.x, devData.y), { batchSize: 4 }),
  };
}

export const accuracyMetric = (out: Tensor, y: Tensor): number => accuracy(predictions(out), y);

/** A deep copy of a module's state as plain arrays, to compare weights between epochs. */
export function snapshot(model: Module): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = Array.from(t.dataSync() as ArrayLike<number>);
  return out;
}

export function stateToArrays(sd: StateDict): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(sd)) out[k] = Array.from(t.dataSync() as ArrayLike<number>);
  return out;
}
