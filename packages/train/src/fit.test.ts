import { describe, expect, it } from 'vitest';
import { Tensor, keep, manualSeed, noGrad, randn, tensor, wasmInfo } from '@kiln/tensor';
import { Linear, Module, ReLU, Sequential, crossEntropy } from '@kiln/nn';
import { LRScheduler, SGD, stepDecay } from '@kiln/optim';
import { fit, evaluate, type FitOptions } from './index.js';
import { accuracyMetric, snapshot, toySetup } from './test-utils/toy.js';

const ce = (o: Tensor, y: Tensor) => crossEntropy(o, y);
const quiet = { progress: false } as const;

describe('fit: history', () => {
  it('records one entry per epoch: epochs, train/dev loss, metrics, lr, seconds', async () => {
    const { model, train, dev } = toySetup();
    const optimizer = new SGD(model.parameters(), { lr: 0.5 });
    const schedule = new LRScheduler(optimizer, stepDecay(0.5, 2, 0.5));
    const h = await fit(model, { train, dev, loss: ce, optimizer, schedule, epochs: 5, metrics: { accuracy: accuracyMetric }, ...quiet });
    expect(h.epochs).toEqual([1, 2, 3, 4, 5]);
    expect(h.trainLoss).toHaveLength(5);
    expect(h.devLoss).toHaveLength(5);
    expect(Object.keys(h.metrics)).toEqual(['accuracy']);
    expect(h.metrics.accuracy).toHaveLength(5);
    // the lr used during each epoch; the schedule steps after it
    expect(h.lr).toEqual([0.5, 0.5, 0.25, 0.25, 0.125]);
    expect(optimizer.paramGroups[0]!.lr).toBe(0.125); // after 5 steps: 0.5·0.5^⌊5/2⌋
    for (const s of h.seconds) expect(s).toBeGreaterThanOrEqual(0);
    expect(h.stoppedEarly).toBe(false);
    expect(h.bestEpoch).toBeUndefined();
    // the toy problem is learnable: the loss falls and the dev accuracy ends high
    expect(h.trainLoss[4]!).toBeLessThan(h.trainLoss[0]! * 0.7);
    expect(h.metrics.accuracy![4]!).toBeGreaterThanOrEqual(0.8);
  });

  it('train loss is the per-example mean over uneven batches; dev loss and metrics are over the whole dev set', async () => {
    const { model, train, dev, trainData, devData } = toySetup(3);
    // lr 0 keeps the weights fixed, so every epoch's numbers can be recomputed in one full batch
    const h = await fit(model, { train, dev, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0 }), epochs: 2, metrics: { accuracy: accuracyMetric }, ...quiet });
    const full = noGrad(() => ce(model.forward(trainData.x), trainData.y).item() as number);
    const devOut = noGrad(() => model.forward(devData.x));
    const devFull = noGrad(() => ce(devOut, devData.y).item() as number);
    for (const v of h.trainLoss) expect(v).toBeCloseTo(full, 5);
    for (const v of h.devLoss) expect(v).toBeCloseTo(devFull, 5);
    expect(h.metrics.accuracy).toEqual([accuracyMetric(devOut, devData.y), accuracyMetric(devOut, devData.y)]);
  });

  it('train loss weights each batch by its size (batches of 5, 5, 5, 5, 4)', async () => {
    const { model, train } = toySetup(4);
    const batches: { b: number; loss: number }[][] = [];
    const h = await fit(model, {
      train, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.3 }), epochs: 2, ...quiet,
      callbacks: { onEpochStart: () => { batches.push([]); }, onBatchEnd: (b, loss) => { batches.at(-1)!.push({ b, loss }); } },
    });
    expect(batches.map((e) => e.map((x) => x.b))).toEqual([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]);
    batches.forEach((e, i) => {
      const weighted = e.reduce((s, x, k) => s + x.loss * (k === 4 ? 4 : 5), 0) / 24;
      expect(h.trainLoss[i]!).toBeCloseTo(weighted, 6);
    });
    // without a dev set the dev loss is NaN and there are no metrics
    expect(h.devLoss.every(Number.isNaN)).toBe(true);
    expect(h.metrics).toEqual({});
  });

  it('trainMetrics adds "train <name>" computed on the training set after the epoch', async () => {
    const { model, train, dev, trainData } = toySetup(5);
    const h = await fit(model, { train, dev, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.5 }), epochs: 3, metrics: { accuracy: accuracyMetric }, trainMetrics: true, ...quiet });
    expect(Object.keys(h.metrics).sort()).toEqual(['accuracy', 'train accuracy']);
    const finalTrainAcc = noGrad(() => accuracyMetric(model.forward(trainData.x), trainData.y));
    expect(h.metrics['train accuracy']![2]).toBe(finalTrainAcc);
  });
});

describe('fit: callbacks and stopping', () => {
  it('calls the callbacks in order and stops when onEpochEnd returns false', async () => {
    const { model, train } = toySetup();
    const events: string[] = [];
    const h = await fit(model, {
      train, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.1 }), epochs: 10, ...quiet,
      callbacks: [
        {
          onEpochStart: (e) => { events.push(`start ${e}`); },
          onBatchEnd: (b) => { if (b === 5) events.push('batch 5'); },
          onEpochEnd: (logs, hist) => { events.push(`end ${logs.epoch} (${hist.epochs.length})`); return logs.epoch < 2; },
          onTrainEnd: (hist) => { events.push(`train end ${hist.epochs.length}`); },
        },
        { onEpochEnd: async () => { await Promise.resolve(); events.push('second'); } },
      ],
    });
    expect(events).toEqual(['start 1', 'batch 5', 'end 1 (1)', 'second', 'start 2', 'batch 5', 'end 2 (2)', 'second', 'train end 2']);
    expect(h.epochs).toEqual([1, 2]);
    expect(h.stoppedEarly).toBe(false);
  });

  it('a non-finite loss stops training with an error naming the epoch and batch, before the bad update', async () => {
    const { model, train } = toySetup();
    let epoch = 0, weightsAfterEpoch1: Record<string, number[]> = {};
    const loss = (o: Tensor, y: Tensor) => (epoch === 2 ? ce(o, y).mul(NaN) : ce(o, y));
    await expect(fit(model, {
      train, loss, optimizer: new SGD(model.parameters(), { lr: 0.1 }), epochs: 3, ...quiet,
      callbacks: { onEpochStart: (e) => { epoch = e; }, onEpochEnd: () => { weightsAfterEpoch1 = snapshot(model); } },
    })).rejects.toThrow(/Kiln: fit: loss became NaN at epoch 2, batch 1 \(lr 0\.1\)/);
    expect(snapshot(model)).toEqual(weightsAfterEpoch1);
  });
});

describe('evaluate', () => {
  class ModeRecorder extends Module {
    readonly lin = new Linear(3, 3);
    modes: boolean[] = [];
    override forward(x: Tensor): Tensor { this.modes.push(this.training); return this.lin.forward(x); }
  }

  it('runs in eval mode without gradients, restores the mode, and averages the loss per example', () => {
    const { dev, devData } = toySetup(6);
    const model = new ModeRecorder();
    model.train();
    const r = evaluate(model, dev, { accuracy: accuracyMetric }, ce);
    expect(model.modes).toEqual([false, false, false]); // 10 rows in batches of 4
    expect(model.training).toBe(true);
    for (const p of model.parameters()) expect(p.grad).toBeNull();
    const out = noGrad(() => model.lin.forward(devData.x));
    expect(r.loss).toBeCloseTo(ce(out, devData.y).item() as number, 5);
    expect(r.metrics).toEqual({ accuracy: accuracyMetric(out, devData.y) });
    model.eval();
    evaluate(model, dev);
    expect(model.training).toBe(false);
  });

  it('gives NaN loss without a loss function, and metrics over all batches concatenated', () => {
    const model = new Linear(2, 2);
    const x = tensor([[1, 0], [0, 1], [1, 1]]), y = tensor(Int32Array.from([0, 1, 1]), { dtype: 'int32' });
    const batches = [[x.slice(0, 0, 2), y.slice(0, 0, 2)], [x.slice(0, 2, 3), y.slice(0, 2, 3)]];
    const seen: number[][] = [];
    const r = evaluate(model, batches, { rows: (o, t) => { seen.push([...o.shape, ...t.shape]); return o.shape[0]!; } });
    expect(r.loss).toBeNaN();
    expect(r.metrics.rows).toBe(3);
    expect(seen).toEqual([[3, 2, 3]]);
    expect(evaluate(model, [], { rows: () => 1 })).toEqual({ loss: NaN, metrics: {} });
  });
});

describe('fit: bad options', () => {
  const base = (): FitOptions & { model: Linear } => {
    const { model, train, dev } = toySetup();
    return { model, train, dev, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.1 }), epochs: 1, progress: false, metrics: { accuracy: accuracyMetric } };
  };
  const cases: [string, (o: FitOptions) => FitOptions, RegExp][] = [
    ['epochs 0', (o) => ({ ...o, epochs: 0 }), /Kiln: fit: epochs must be a positive integer, got 0/],
    ['epochs 1.5', (o) => ({ ...o, epochs: 1.5 }), /epochs must be a positive integer, got 1\.5/],
    ['train not iterable', (o) => ({ ...o, train: 5 as never }), /Kiln: fit: option 'train' must be an iterable .*got 5/],
    ['dev not iterable', (o) => ({ ...o, dev: {} as never }), /Kiln: fit: option 'dev' must be an iterable/],
    ['loss missing', (o) => ({ ...o, loss: undefined as never }), /Kiln: fit: loss must be a function/],
    ['optimizer missing', (o) => ({ ...o, optimizer: {} as never }), /Kiln: fit: option 'optimizer' must be an Optimizer/],
    ['metric not a function', (o) => ({ ...o, metrics: { acc: 3 as never } }), /Kiln: fit: metric 'acc' must be a function/],
    ['early stopping without dev', (o) => ({ ...o, dev: undefined, earlyStopping: { monitor: 'loss' } }), /Kiln: fit: earlyStopping monitors 'loss' on the dev set, but no dev set was given/],
    ['unknown monitor', (o) => ({ ...o, earlyStopping: { monitor: 'f1' } }), /earlyStopping monitors 'f1', which is not 'loss' or one of the metrics \[accuracy\]/],
    ['inherited name as monitor', (o) => ({ ...o, earlyStopping: { monitor: 'toString' } }), /earlyStopping monitors 'toString'/],
    ['negative patience', (o) => ({ ...o, earlyStopping: { monitor: 'loss', patience: -1 } }), /earlyStopping\.patience must be an integer >= 0, got -1/],
    ['bad mode', (o) => ({ ...o, earlyStopping: { monitor: 'loss', mode: 'up' as never } }), /Kiln: fit: option 'earlyStopping\.mode' must be one of 'min', 'max', got 'up'/],
    ['negative minDelta', (o) => ({ ...o, earlyStopping: { monitor: 'loss', minDelta: -0.1 } }), /earlyStopping\.minDelta must be >= 0, got -0\.1/],
    ['checkpoint every 0', (o) => ({ ...o, checkpoint: { dir: '/tmp/x', every: 0 } }), /Kiln: fit: checkpoint\.every must be a positive integer \(epochs\), got 0/],
    ['checkpoint name with a slash', (o) => ({ ...o, checkpoint: { dir: '/tmp/x', every: 1, name: 'a/b' } }), /checkpoint\.name must be a file name without slashes, got 'a\/b'/],
    ['checkpoint without dir', (o) => ({ ...o, checkpoint: { dir: '', every: 1 } }), /checkpoint\.dir must be a directory path/],
    ['bad progress mode', (o) => ({ ...o, progress: 'fancy' as never }), /Kiln: fit: option 'progress' must be 'auto', 'bar', 'lines' or false, got 'fancy'/],
    ['metric named loss with monitor loss', (o) => ({ ...o, metrics: { loss: () => 0 }, earlyStopping: { monitor: 'loss' } }),
      /^Kiln: fit: earlyStopping monitors 'loss', which is both the dev loss and a metric named 'loss'; rename the metric$/],
    ['inputs without targets', (o) => ({ ...o, train: [[o.train[Symbol.iterator]().next().value![0]!]] as never }),
      /^Kiln: fit: batch 1 must be \[input, target\] \(e\.g\. from new TensorDataset\(x, y\)\), got 1 entry$/],
    ['schedule of another optimizer', (o) => ({ ...o, schedule: new LRScheduler(new SGD(o.optimizer.paramGroups[0]!.params, { lr: 0.1 }), stepDecay(0.1, 1)) }),
      /^Kiln: fit: schedule drives a different optimizer than the one given to fit \(its lr changes would not reach training\)$/],
  ];
  it.each(cases)('%s', async (_, change, message) => {
    const { model, ...o } = base();
    const before = snapshot(model);
    await expect(fit(model, change(o))).rejects.toThrow(message);
    expect(snapshot(model)).toEqual(before); // nothing trained
  });

  it('rejects a model without forward', async () => {
    const { model: _m, ...o } = base();
    await expect(fit({} as Module, o)).rejects.toThrow(/Kiln: fit: model must be a Module with a forward method/);
  });

  it('rejects a train iterable that gives no batches, pointing at one-shot iterators after epoch 1', async () => {
    const { model, ...o } = base();
    await expect(fit(model, { ...o, train: [] })).rejects.toThrow(/Kiln: fit: train gave no batches in epoch 1$/);
    const { trainData } = toySetup();
    const oneShot = (function* () { yield [trainData.x, trainData.y]; })();
    await expect(fit(model, { ...o, train: oneShot, dev: undefined, epochs: 2 })).rejects.toThrow(/train gave no batches in epoch 2 \(a one-shot iterator\?/);
  });
});

describe('fit: each step in a step scope', () => {
  const bits = (t: Tensor) => Array.from(new Int32Array(Float32Array.from(t.dataSync()).buffer));
  const blocks = wasmInfo()?.build.endsWith('+threads') ?? false; // activations in Wasm memory
  // Activations of [32, 64] floats (8 KiB): over the size at which a scope puts them in blocks.
  const batches = [0, 1].map((i): [Tensor, Tensor] => {
    manualSeed(40 + i);
    return [randn([32, 16]), tensor(Int32Array.from({ length: 32 }, (_, k) => (k * 3 + i) % 4), { dtype: 'int32' })];
  });
  const make = (): Module => {
    manualSeed(7);
    return new Sequential(new Linear(16, 64), new ReLU(), new Linear(64, 4));
  };

  it('trains bit for bit like a hand-written loop outside any scope', async () => {
    const a = make();
    await fit(a, { train: batches, loss: ce, optimizer: new SGD(a.parameters(), { lr: 0.1, momentum: 0.9 }), epochs: 3, ...quiet });
    const b = make();
    const opt = new SGD(b.parameters(), { lr: 0.1, momentum: 0.9 });
    for (let e = 0; e < 3; e++) {
      for (const [x, y] of batches) {
        opt.zeroGrad();
        ce(b.forward(x), y).backward();
        opt.step();
      }
    }
    expect(a.parameters().map(bits)).toEqual(b.parameters().map(bits));
  });

  it('a model that keeps a forward output for the next step fails loudly where activations live in Wasm memory', async () => {
    class Stash extends Module {
      readonly lin = new Linear(16, 64);
      readonly head = new Linear(64, 4);
      last: Tensor | null = null;
      override forward(x: Tensor): Tensor {
        const h = this.lin.forward(x).relu();
        const out = this.last ? h.add(this.last.detach().mul(0)) : h; // reads the previous step's h
        this.last = h;
        return this.head.forward(out);
      }
    }
    const m = new Stash();
    const run = fit(m, { train: batches, loss: ce, optimizer: new SGD(m.parameters(), { lr: 0.1 }), epochs: 1, ...quiet });
    if (blocks) await expect(run).rejects.toThrow(/made inside stepScope\(\) and its memory was given back.*stepScope: false/);
    else await expect(run).resolves.toBeDefined();
    // stepScope: false runs the steps as plain code: the same model trains, and its evaluation too
    const free = new Stash();
    const opt = new SGD(free.parameters(), { lr: 0.1 });
    const h = await fit(free, { train: batches, dev: batches, loss: ce, optimizer: opt, epochs: 2, stepScope: false, ...quiet });
    expect(h.devLoss.every(Number.isFinite)).toBe(true);
    expect(free.last!.sum().item()).toBeGreaterThan(0); // the last forward's h (relu) is readable
  });

  it('keep(): a tensor a model stores with keep() is readable after fit, with the bits of an unscoped run', async () => {
    class Keeper extends Module {
      readonly lin = new Linear(16, 64);
      readonly head = new Linear(64, 4);
      last: Tensor | null = null;
      override forward(x: Tensor): Tensor {
        const h = this.lin.forward(x).relu();
        this.last = keep(h.detach());
        return this.head.forward(h);
      }
    }
    const run = async (stepScope: boolean): Promise<Keeper> => {
      manualSeed(3);
      const m = new Keeper();
      await fit(m, { train: batches, dev: batches.slice(0, 1), loss: ce, optimizer: new SGD(m.parameters(), { lr: 0.1 }), epochs: 2, stepScope, ...quiet });
      return m;
    };
    const scoped = await run(true), plain = await run(false);
    expect(bits(scoped.last!)).toEqual(bits(plain.last!)); // the dev batch's h after the last epoch
    expect(scoped.parameters().map(bits)).toEqual(plain.parameters().map(bits));
  });
});
