import { describe, expect, it } from 'vitest';
import { Generator, arange, randn, tensor } from '@kiln/tensor';
import {
  DataLoader, TensorDataset, accuracy, circles, colorShift, f1Score, loadMnist, loadMnistSplits, moons, planarFlower, precision, predictions,
  randomCrop, randomSearch, randomSplit, recall, spirals,
} from './index.js';

// Option objects go through @kiln/tensor's shared checkOptions: unknown keys and wrong types are errors naming
// the function, the option and the value.
describe('@kiln/data option objects are validated', () => {
  const ds = () => new TensorDataset(arange(6), arange(6));
  const img = () => randn([2, 1, 4, 4]);
  const g = () => new Generator(0);

  it('DataLoader', () => {
    expect(() => new DataLoader(ds(), { batch_size: 2 } as never)).toThrow(/^Kiln: DataLoader: unknown option 'batch_size' \(known: batchSize, shuffle, seed, generator, dropLast, transform\)$/);
    expect(() => new DataLoader(ds(), { shuffle: 'true' } as never)).toThrow("Kiln: DataLoader: option 'shuffle' must be a boolean, got 'true'");
    expect(() => new DataLoader(ds(), { generator: 3 } as never)).toThrow("Kiln: DataLoader: option 'generator' must be a Generator, got 3");
  });

  it('randomSplit', () => {
    expect(() => randomSplit(ds(), [3, 3], { sed: 1 } as never)).toThrow(/^Kiln: randomSplit: unknown option 'sed' \(known: seed, generator\)$/);
    expect(() => randomSplit(ds(), [3, 3], { seed: '1' } as never)).toThrow("Kiln: randomSplit: option 'seed' must be a finite number, got '1'");
  });

  it('randomCrop and colorShift', () => {
    expect(() => randomCrop(img(), g(), { pad: 1 } as never)).toThrow(/^Kiln: randomCrop: unknown option 'pad' \(known: padding, size\)$/);
    expect(() => randomCrop(img(), g(), { size: 3 } as never)).toThrow("Kiln: randomCrop: option 'size' must be a pair of positive integers [height, width], got 3");
    expect(() => randomCrop(img(), g(), { padding: -1 })).toThrow("Kiln: randomCrop: option 'padding' must be a non-negative integer, got -1");
    expect(() => colorShift(img(), g(), { hue: 0.1 } as never)).toThrow(/^Kiln: colorShift: unknown option 'hue' \(known: brightness, shift\)$/);
    expect(() => colorShift(img(), g(), { brightness: '0.1' } as never)).toThrow("Kiln: colorShift: option 'brightness' must be a number, got '0.1'");
  });

  it('predictions, precision, recall and f1Score', () => {
    const out = tensor([0.2, 0.7]);
    expect(() => predictions(out, { thresh: 0.5 } as never)).toThrow(/^Kiln: predictions: unknown option 'thresh' \(known: threshold\)$/);
    expect(() => predictions(out, { threshold: '0.5' } as never)).toThrow("Kiln: predictions: option 'threshold' must be a number, got '0.5'");
    for (const [f, name] of [[precision, 'precision'], [recall, 'recall'], [f1Score, 'f1Score']] as const) {
      expect(() => f([1, 0], [1, 1], { averaging: 'macro' } as never)).toThrow(new RegExp(`^Kiln: ${name}: unknown option 'averaging' \\(known: average, positive, numClasses\\)$`));
      expect(() => f([1, 0], [1, 1], { average: 'micro' } as never)).toThrow(`Kiln: ${name}: option 'average' must be one of 'binary', 'macro', got 'micro'`);
    }
    expect(accuracy([1, 0], [1, 1])).toBe(0.5); // no options: unchanged
  });

  it('randomSearch: options and each space', async () => {
    const space = { lr: { kind: 'log', min: 1e-4, max: 1e-1 } } as const;
    await expect(randomSearch(space, () => 0, { trials: 2, round: 1 } as never)).rejects.toThrow(/^Kiln: randomSearch: unknown option 'round' \(known: trials, rounds, mode, seed, topFraction\)$/);
    await expect(randomSearch(space, () => 0, { trials: 2, mode: 'maximize' } as never)).rejects.toThrow("Kiln: randomSearch: option 'mode' must be one of 'max', 'min', got 'maximize'");
    await expect(randomSearch({ lr: { kind: 'log', min: 1e-4, mx: 1 } } as never, () => 0, { trials: 1 })).rejects.toThrow(/^Kiln: randomSearch: space 'lr': unknown option 'mx' \(known: kind, min, max\)$/);
    await expect(randomSearch({ act: { kind: 'choice', values: 'relu' } } as never, () => 0, { trials: 1 })).rejects.toThrow("Kiln: randomSearch: space 'act': option 'values' must be an array of numbers or strings, got 'relu'");
    await expect(randomSearch({ lr: { kind: 'exp', min: 0, max: 1 } } as never, () => 0, { trials: 1 })).rejects.toThrow("Kiln: randomSearch: space 'lr': option 'kind' must be one of 'uniform', 'log', 'oneMinusLog', 'int', 'choice', got 'exp'");
  });

  it('synthetic point sets', () => {
    for (const [f, name] of [[planarFlower, 'planarFlower'], [moons, 'moons'], [circles, 'circles'], [spirals, 'spirals']] as const) {
      expect(() => f(20, { noize: 0.1 } as never)).toThrow(new RegExp(`^Kiln: ${name}: unknown option 'noize' \\(known: seed, noise`));
      expect(() => f(20, { noise: '0.1' } as never)).toThrow(`Kiln: ${name}: option 'noise' must be a number, got '0.1'`);
    }
    expect(() => spirals(20, { classes: 0 })).toThrow("Kiln: spirals: option 'classes' must be a positive integer, got 0");
    expect(() => circles(20, { factor: null } as never)).toThrow("Kiln: circles: option 'factor' must be a number, got null");
  });

  it('loadMnist and loadMnistSplits (checked before the digits are read)', () => {
    expect(() => loadMnist({ flatten: true } as never)).toThrow(/^Kiln: loadMnist: unknown option 'flatten' \(known: flat\)$/);
    expect(() => loadMnist({ flat: 1 } as never)).toThrow("Kiln: loadMnist: option 'flat' must be a boolean, got 1");
    expect(() => loadMnistSplits({ seeds: 1 } as never)).toThrow(/^Kiln: loadMnistSplits: unknown option 'seeds' \(known: seed, sizes, flat\)$/);
    expect(() => loadMnistSplits({ sizes: 100 } as never)).toThrow("Kiln: loadMnistSplits: option 'sizes' must be an array [train, dev, test], got 100");
  });
});
