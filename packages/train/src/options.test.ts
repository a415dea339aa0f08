import { describe, expect, it } from 'vitest';
import type { Tensor } from '@kiln/tensor';
import { crossEntropy } from '@kiln/nn';
import { SGD } from '@kiln/optim';
import { evaluate, fit, learningCurvesSvg, type FitOptions } from './index.js';
import { snapshot, toySetup } from './test-utils/toy.js';

// fit's option object and its nested objects go through @kiln/tensor's shared checkOptions: unknown keys and
// wrong types are errors naming fit, the option and the value, raised before any training.
describe('fit: option objects are validated', () => {
  const setup = () => {
    const { model, train, dev } = toySetup();
    const o: FitOptions = { train, dev, loss: (a: Tensor, b: Tensor) => crossEntropy(a, b), optimizer: new SGD(model.parameters(), { lr: 0.1 }), epochs: 1, progress: false };
    return { model, o };
  };
  const cases: [string, (o: FitOptions) => unknown, string | RegExp][] = [
    ['unknown top-level key', (o) => ({ ...o, epoch: 3 }), /^Kiln: fit: unknown option 'epoch' \(known: train, dev, loss, optimizer, epochs, /],
    ['wrong type: epochs', (o) => ({ ...o, epochs: '3' }), "Kiln: fit: option 'epochs' must be a number, got '3'"],
    ['wrong type: trainMetrics', (o) => ({ ...o, trainMetrics: 'yes' }), "Kiln: fit: option 'trainMetrics' must be a boolean, got 'yes'"],
    ['wrong type: schedule', (o) => ({ ...o, schedule: 0.5 }), "Kiln: fit: option 'schedule' must be an LRScheduler, got 0.5"],
    ['wrong type: log', (o) => ({ ...o, log: true }), "Kiln: fit: option 'log' must be a function, got true"],
    ['wrong type: tbptt', (o) => ({ ...o, tbptt: 4 }), "Kiln: fit: option 'tbptt' must be an object, got 4"],
    ['unknown earlyStopping key', (o) => ({ ...o, earlyStopping: { monitor: 'loss', patients: 2 } }), /^Kiln: fit: unknown option 'earlyStopping\.patients' \(known: earlyStopping\.monitor, /],
    ['wrong type: earlyStopping.restoreBest', (o) => ({ ...o, earlyStopping: { monitor: 'loss', restoreBest: 1 } }), "Kiln: fit: option 'earlyStopping.restoreBest' must be a boolean, got 1"],
    ['unknown checkpoint key', (o) => ({ ...o, checkpoint: { dir: '/tmp/x', every: 1, prefix: 'm' } }), /^Kiln: fit: unknown option 'checkpoint\.prefix' \(known: checkpoint\.dir, checkpoint\.every, checkpoint\.name\)/],
    ['wrong type: checkpoint.every', (o) => ({ ...o, checkpoint: { dir: '/tmp/x', every: '1' } }), "Kiln: fit: option 'checkpoint.every' must be an integer, got '1'"],
    ['wrong type: tbptt.steps', (o) => ({ ...o, tbptt: { steps: 2.5 } }), "Kiln: fit: option 'tbptt.steps' must be an integer, got 2.5"],
    ['misspelt callback hook', (o) => ({ ...o, callbacks: { onEpochEnds: () => {} } }), /^Kiln: fit: unknown option 'callbacks\.onEpochEnds' \(known: callbacks\.onEpochStart, /],
    ['callback hook not a function', (o) => ({ ...o, callbacks: [{}, { onTrainEnd: 'done' }] }), "Kiln: fit: option 'callbacks[1].onTrainEnd' must be a function, got 'done'"],
    ['wrong type: callbacks', (o) => ({ ...o, callbacks: 'log' }), "Kiln: fit: option 'callbacks' must be a Callbacks object or an array of them, got 'log'"],
    ['wrong type: stepScope', (o) => ({ ...o, stepScope: 'off' }), "Kiln: fit: option 'stepScope' must be a boolean, got 'off'"],
  ];
  it.each(cases)('%s', async (_, change, message) => {
    const { model, o } = setup();
    const before = snapshot(model);
    await expect(fit(model, change(o) as FitOptions)).rejects.toThrow(message);
    expect(snapshot(model)).toEqual(before); // nothing trained
  });

  it('accepts a class instance as callbacks (its other members are not options)', async () => {
    const { model, o } = setup();
    class Counter { n = 0; onEpochEnd(): void { this.n++; } }
    const c = new Counter();
    await fit(model, { ...o, callbacks: c });
    expect(c.n).toBe(1);
  });
});

describe('evaluate: options are validated', () => {
  it('rejects an unknown key and a wrong type', () => {
    const { model, dev } = toySetup();
    expect(() => evaluate(model, dev, {}, undefined, { scope: false } as never)).toThrow("Kiln: evaluate: unknown option 'scope' (known: stepScope)");
    expect(() => evaluate(model, dev, {}, undefined, { stepScope: 0 } as never)).toThrow("Kiln: evaluate: option 'stepScope' must be a boolean, got 0");
  });
  it('checks its positional arguments before the pass', () => {
    const { model, dev } = toySetup();
    const loss = (a: Tensor, b: Tensor) => crossEntropy(a, b);
    // options or the loss in the metrics slot used to fail only after the whole pass, with 'm is not a function'
    expect(() => evaluate(model, dev, { stepScope: false } as never)).toThrow(/^Kiln: evaluate: metric 'stepScope' must be a function \(output, target\) => number, got false$/);
    expect(() => evaluate(model, dev, loss as never)).toThrow(/^Kiln: evaluate: metrics must be an object of functions, got a function \(pass the loss as the 4th argument\)$/);
    expect(() => evaluate(model, dev, {}, 'ce' as never)).toThrow(/^Kiln: evaluate: loss must be a function \(output, target\) => Tensor, got ce$/);
    expect(() => evaluate(model, [[dev[Symbol.iterator]().next().value![0]!]] as never)).toThrow(/^Kiln: evaluate: batch 1 must be \[input, target\] \(e\.g\. from new TensorDataset\(x, y\)\), got 1 entry$/);
    expect(() => evaluate(model, 5 as never)).toThrow(/^Kiln: evaluate: loader must be an iterable of \[input, target\] batches \(e\.g\. a DataLoader\), got 5$/);
  });
});

describe('learningCurvesSvg: options are validated', () => {
  it('rejects an unknown key and a wrong type', () => {
    expect(() => learningCurvesSvg({ 'train loss': [1, 0.5] }, 't', { best: 2 } as never)).toThrow("Kiln: learningCurvesSvg: unknown option 'best' (known: bestEpoch)");
    expect(() => learningCurvesSvg({ 'train loss': [1, 0.5] }, 't', { bestEpoch: '2' } as never)).toThrow(
      "Kiln: learningCurvesSvg: option 'bestEpoch' must be an epoch number (an integer >= 1) or null, got '2'",
    );
    expect(learningCurvesSvg({ 'train loss': [1, 0.5] }, 't', { bestEpoch: null })).toContain('<svg');
  });
});
