import { describe, expect, it } from 'vitest';
import { Tensor, isGradEnabled, tensor } from '@kiln/tensor';
import { BatchNorm1d, Linear, ReLU, Sequential, crossEntropy, type Module } from '@kiln/nn';
import { SGD } from '@kiln/optim';
import { fit, type EarlyStopping, type History } from './index.js';
import { snapshot, toySetup } from './test-utils/toy.js';

const ce = (o: Tensor, y: Tensor) => crossEntropy(o, y);

/**
 * Trains the toy model with a dev metric `score` whose value in epoch e is `values[e - 1]`
 * (a script, so the best epoch is known), snapshotting the weights at the end of every epoch.
 */
async function runScripted(values: number[], es: Omit<EarlyStopping, 'monitor'>, model?: Module) {
  const setup = toySetup(7);
  const m = model ?? setup.model;
  let epoch = 0;
  const weights: Record<string, number[]>[] = [];
  const history: History = await fit(m, {
    train: setup.train, dev: setup.dev, loss: ce, optimizer: new SGD(m.parameters(), { lr: 0.2 }), epochs: values.length, progress: false,
    metrics: { score: () => values[epoch - 1]! },
    earlyStopping: { monitor: 'score', ...es },
    callbacks: { onEpochStart: (e) => { epoch = e; }, onEpochEnd: () => { weights.push(snapshot(m)); } },
  });
  return { history, weights, model: m };
}

describe('fit: early stopping', () => {
  it('stops after `patience` epochs without improvement and restores the best epoch\'s weights', async () => {
    // best at epoch 2; epochs 3 and 4 are tolerated (patience 2), epoch 5 stops
    const { history, weights, model } = await runScripted([0.5, 0.8, 0.7, 0.75, 0.6, 0.9, 0.95], { patience: 2 });
    expect(history.epochs).toEqual([1, 2, 3, 4, 5]);
    expect(history.stoppedEarly).toBe(true);
    expect(history.bestEpoch).toBe(2);
    expect(history.metrics.score).toEqual([0.5, 0.8, 0.7, 0.75, 0.6]);
    expect(weights[1]).not.toEqual(weights[4]); // the weights did move after the best epoch
    expect(snapshot(model)).toEqual(weights[1]);
  });

  it('patience 0 stops at the first epoch without improvement', async () => {
    const { history, weights, model } = await runScripted([0.5, 0.6, 0.6, 0.9], { patience: 0 });
    expect(history.epochs).toEqual([1, 2, 3]); // an equal value is not an improvement
    expect(history.bestEpoch).toBe(2);
    expect(snapshot(model)).toEqual(weights[1]);
  });

  it('minDelta: an improvement must beat the best by more than minDelta', async () => {
    const { history, model, weights } = await runScripted([0.5, 0.55, 0.58, 0.7], { patience: 1, minDelta: 0.1 });
    expect(history.epochs).toEqual([1, 2, 3]);
    expect(history.bestEpoch).toBe(1);
    expect(snapshot(model)).toEqual(weights[0]);
  });

  it("mode 'min' on a metric: lower is better", async () => {
    const { history, model, weights } = await runScripted([3, 2, 1, 1.5, 2, 0.5], { mode: 'min', patience: 1 });
    expect(history.epochs).toEqual([1, 2, 3, 4, 5]);
    expect(history.bestEpoch).toBe(3);
    expect(snapshot(model)).toEqual(weights[2]);
  });

  it('restoreBest false keeps the last epoch\'s weights', async () => {
    const { history, model, weights } = await runScripted([0.5, 0.8, 0.7, 0.6], { patience: 1, restoreBest: false });
    expect(history.stoppedEarly).toBe(true);
    expect(history.bestEpoch).toBe(2);
    expect(snapshot(model)).toEqual(weights[3]);
    expect(snapshot(model)).not.toEqual(weights[1]);
  });

  it('without a stop, the best (not the last) epoch is still restored', async () => {
    const { history, model, weights } = await runScripted([0.5, 0.9, 0.8], { patience: 5 });
    expect(history.epochs).toEqual([1, 2, 3]);
    expect(history.stoppedEarly).toBe(false);
    expect(history.bestEpoch).toBe(2);
    expect(snapshot(model)).toEqual(weights[1]);
  });

  it('restores buffers too (BatchNorm running statistics)', async () => {
    const model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 3));
    const { history, weights } = await runScripted([0.1, 0.7, 0.2, 0.3], { patience: 1 }, model);
    expect(history.bestEpoch).toBe(2);
    expect(Object.keys(weights[1]!)).toContain('1.running_mean');
    expect(weights[1]!['1.running_mean']).not.toEqual(weights[3]!['1.running_mean']);
    expect(snapshot(model)).toEqual(weights[1]);
  });

  it("monitor 'loss' watches the dev loss, lower is better by default", async () => {
    const devLosses = [1.0, 0.5, 0.7, 0.6];
    const { model, train, dev } = toySetup(8);
    let epoch = 0;
    const weights: Record<string, number[]>[] = [];
    // on the dev pass (no grad) the loss is scripted; training uses the real loss
    const loss = (o: Tensor, y: Tensor) => (isGradEnabled() ? ce(o, y) : tensor(devLosses[epoch - 1]!));
    const history = await fit(model, {
      train, dev, loss, optimizer: new SGD(model.parameters(), { lr: 0.2 }), epochs: 4, progress: false,
      earlyStopping: { monitor: 'loss', patience: 1 },
      callbacks: { onEpochStart: (e) => { epoch = e; }, onEpochEnd: () => { weights.push(snapshot(model)); } },
    });
    expect(history.devLoss.map((v) => Number(v.toFixed(6)))).toEqual(devLosses);
    expect(history.epochs).toEqual([1, 2, 3, 4]);
    expect(history.stoppedEarly).toBe(true);
    expect(history.bestEpoch).toBe(2);
    expect(snapshot(model)).toEqual(weights[1]);
  });
});
