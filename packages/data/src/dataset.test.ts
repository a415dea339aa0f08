import { describe, it, expect } from 'vitest';
import { arange, Generator, tensor } from '@kiln/tensor';
import { TensorDataset, DataLoader, randomSplit, Subset, takeRows } from './index.js';

const ds = () => new TensorDataset(arange(10).reshape([10, 1]), tensor(Int32Array.from({ length: 10 }, (_, i) => i % 3), { dtype: 'int32' }));

describe('DataLoader', () => {
  it('batches in order with a smaller last batch', () => {
    const batches = [...new DataLoader(ds(), { batchSize: 4 })];
    expect(batches.map((b) => b[0]!.shape[0])).toEqual([4, 4, 2]);
    expect(Array.from(batches[2]![0]!.dataSync())).toEqual([8, 9]);
    expect(batches[0]![1]!.dtype).toBe('int32');
  });
  it('drops the last batch with dropLast', () => {
    const dl = new DataLoader(ds(), { batchSize: 4, dropLast: true });
    expect(dl.length).toBe(2);
    expect([...dl].length).toBe(2);
  });
  it('shuffles a permutation, fresh each epoch, reproducible by seed', () => {
    const epoch = (dl: DataLoader) => [...dl].flatMap((b) => Array.from(b[0]!.dataSync()));
    const a = new DataLoader(ds(), { batchSize: 3, shuffle: true, seed: 7 });
    const b = new DataLoader(ds(), { batchSize: 3, shuffle: true, seed: 7 });
    const e1 = epoch(a), e2 = epoch(a);
    expect([...e1].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(e1).not.toEqual(e2);
    expect(epoch(b)).toEqual(e1);
    expect(e1).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  it('keeps rows and labels paired through Subset and generic datasets', () => {
    const sub = new Subset(ds(), [5, 2, 9]);
    const [x, y] = [...new DataLoader(sub, { batchSize: 3 })][0]!;
    expect(Array.from(x!.dataSync())).toEqual([5, 2, 9]);
    expect(Array.from(y!.dataSync())).toEqual([2, 2, 0]);
    const generic = { length: 3, get: (i: number) => sub.get(i) };
    const [gx] = [...new DataLoader(generic, { batchSize: 3 })][0]!;
    expect(gx!.shape).toEqual([3, 1]);
    expect(Array.from(gx!.dataSync())).toEqual([5, 2, 9]);
  });
  it('rejects bad arguments', () => {
    expect(() => new DataLoader(ds(), { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new TensorDataset(arange(3), arange(4))).toThrow(/first dimension/);
    expect(() => ds().get(10)).toThrow(/out of range/);
    // rows past the end used to come back as zeros, negative ones from the end
    expect(() => takeRows(arange(6).reshape([3, 2]), [0, 3])).toThrow(/^Kiln: takeRows: index 3 out of range for length 3$/);
    expect(() => takeRows(arange(6).reshape([3, 2]), [-1])).toThrow(/^Kiln: takeRows: index -1 out of range for length 3$/);
  });
  it('rejects a dataset without length/get and a seed next to a generator', () => {
    const x = arange(6).reshape([3, 2]);
    // an array [x, y] has length 2 but no get(); a Tensor has no integer length
    expect(() => new DataLoader([x, x] as never, { batchSize: 2 })).toThrow(/^Kiln: DataLoader: dataset must have an integer length and get\(i\) \(e\.g\. new TensorDataset\(x, y\)\), got an array$/);
    expect(() => new DataLoader(x as never)).toThrow(/^Kiln: DataLoader: dataset must .* got a Tensor$/);
    expect(() => new DataLoader(ds(), { shuffle: true, seed: 3, generator: new Generator(1) })).toThrow(/^Kiln: DataLoader: give seed or generator, not both \(seed 3 would be ignored\)$/);
    expect(() => randomSplit(ds(), [5, 5], { seed: 2, generator: new Generator(1) })).toThrow(/^Kiln: randomSplit: give seed or generator, not both/);
    const dropsLabels = new DataLoader(ds(), { batchSize: 5, transform: (b) => b[0] as never });
    expect(() => [...dropsLabels]).toThrow(/^Kiln: DataLoader: transform must return the batch as an array of Tensors, got a Tensor$/);
    expect([...new DataLoader(ds(), { batchSize: 5, transform: (b) => [b[0]!.mul(2), b[1]!] })][0]![0]!.shape).toEqual([5, 1]);
    expect(() => new TensorDataset(x, [1, 2, 3] as never)).toThrow(/^Kiln: TensorDataset: argument 1 must be a Tensor, got an array$/);
  });
});

describe('randomSplit', () => {
  it('splits fractions into disjoint subsets covering everything', () => {
    const parts = randomSplit(ds(), [0.6, 0.2, 0.2], { seed: 1 });
    expect(parts.map((p) => p.length)).toEqual([6, 2, 2]);
    const all = parts.flatMap((p) => [...p.indices]).sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(randomSplit(ds(), [0.6, 0.2, 0.2], { seed: 1 })[0]!.indices).toEqual(parts[0]!.indices);
  });
  it('accepts lengths and rejects a bad total', () => {
    expect(randomSplit(ds(), [7, 3]).map((p) => p.length)).toEqual([7, 3]);
    expect(() => randomSplit(ds(), [7, 4])).toThrow(/randomSplit/);
  });
});
