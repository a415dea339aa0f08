/**
 * `npm run demo -w @kiln/vision`: trains a ResNet-18-style network (torchvision's layout, widths
 * divided by 8) on 32×32 colour shapes from @kiln/data, with fit's progress, learning curves and
 * checkpoints; prints the dev confusion matrix; exports to ONNX and checks it on onnxruntime-node;
 * and saves "what is it learning" pictures: first-layer filters, layer1 feature maps of a dev
 * image, and the dev patches that excite layer2 units most. Everything goes to demo/out/.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, manualSeed, noGrad, type Tensor } from '@kiln/tensor';
import { crossEntropy, saveSafetensors } from '@kiln/nn';
import { Adam, LRScheduler, cosineAnnealing } from '@kiln/optim';
import { DataLoader, TensorDataset, colorShapes, SHAPE_CLASSES, accuracy, predictions, confusionMatrix } from '@kiln/data';
import { fit } from '@kiln/train';
import { resnet18, saveImageGrid, saveFeatureMaps, topActivatingPatches, saveTopPatches, measuredReceptiveField } from '@kiln/vision';
import { checkOnOrt } from './onnx-check.js';

const outDir = fileURLToPath(new URL('../out', import.meta.url));
const TARGET = 0.95;
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const since = (t: number) => ((performance.now() - t) / 1000).toFixed(1);

async function main(): Promise<void> {
  const start = performance.now();
  await mkdir(outDir, { recursive: true });
  manualSeed(0);
  console.log(`Kiln vision demo — backend ${getBackend().name}`);
  const train = colorShapes(4000, { seed: 1 }), dev = colorShapes(1000, { seed: 2 });
  console.log(`Colour shapes 32×32: ${train.y.shape[0]} train, ${dev.y.shape[0]} held-out dev images; classes ${SHAPE_CLASSES.join(', ')}`);
  await saveImageGrid(join(outDir, 'dev-samples.png'), dev.x.narrow(0, 0, 32), { nrow: 8, scale: 2 });

  const model = resnet18({ numClasses: 4, widthDivisor: 8, zeroInitResidual: true });
  const params = model.parameters().reduce((a, p) => a + p.numel(), 0);
  console.log(`\nResNet-18 (torchvision layout, widths ÷8: 8/8/16/32/64, zero-initialised residual branches), ${params.toLocaleString('en-US')} parameters`);
  const epochs = 8, lr = 3e-3;
  const optimizer = new Adam(model.parameters(), { lr });
  const t0 = performance.now();
  const history = await fit(model, {
    train: new DataLoader(new TensorDataset(train.x, train.y), { batchSize: 32, shuffle: true, seed: 1 }),
    dev: new DataLoader(new TensorDataset(dev.x, dev.y), { batchSize: 250 }),
    loss: (o, y) => crossEntropy(o, y), optimizer, epochs,
    schedule: new LRScheduler(optimizer, cosineAnnealing(lr, epochs, lr * 0.02)),
    metrics: { accuracy: (o: Tensor, y: Tensor) => accuracy(predictions(o), y) },
    earlyStopping: { monitor: 'accuracy', patience: 3 },
    checkpoint: { dir: outDir, every: 4, name: 'resnet18-shapes' },
    curves: join(outDir, 'resnet18-shapes-curves'),
  });
  const best = history.bestEpoch ?? history.epochs.at(-1)!;
  const acc = history.metrics.accuracy![best - 1]!;
  console.log(`ResNet-18 dev accuracy ${pct(acc)} (best epoch ${best}; ${since(t0)} s)`);
  await saveSafetensors(join(outDir, 'resnet18-shapes.safetensors'), model.stateDict());

  model.eval();
  const pred = noGrad(() => predictions(model.forward(dev.x) as Tensor));
  const cm = confusionMatrix(pred, dev.y, 4);
  console.log('\nDev confusion matrix (rows: true class, columns: predicted)');
  console.log(`${''.padEnd(10)}${SHAPE_CLASSES.map((c) => c.padStart(9)).join('')}`);
  cm.forEach((row, i) => console.log(`${SHAPE_CLASSES[i]!.padEnd(10)}${row.map((v) => String(v).padStart(9)).join('')}`));

  console.log('\nONNX export, run on onnxruntime-node over the dev set');
  const t1 = performance.now();
  const ort = await checkOnOrt(model, dev.x, dev.y, join(outDir, 'resnet18-shapes.onnx'));
  console.log(`${join(outDir, 'resnet18-shapes.onnx')}: Kiln ${pct(ort.kilnAccuracy)} · ORT ${pct(ort.ortAccuracy)} · same class ${pct(ort.agree)} · max |Kiln − ORT| ${ort.maxAbsDiff.toExponential(2)} (${since(t1)} s)`);

  console.log('\nWhat is it learning?');
  const filters = (model as unknown as { conv1: { weight: Tensor } }).conv1.weight;
  await saveImageGrid(join(outDir, 'conv1-filters.png'), filters, { nrow: 8, normalize: 'each', scale: 6, padding: 2, padValue: 1 });
  const image = dev.x.narrow(0, 3, 1).squeeze(0);
  await saveImageGrid(join(outDir, 'feature-maps-input.png'), image.unsqueeze(0), { scale: 4 });
  await saveFeatureMaps(join(outDir, 'feature-maps-layer1.png'), model, 'layer1', image);
  await saveFeatureMaps(join(outDir, 'feature-maps-layer3.png'), model, 'layer3', image);
  const field = measuredReceptiveField(model, 'layer2', [3, 32, 32], { trials: 8 });
  const units = [0, 1, 2, 3, 4, 5, 6, 7];
  const top = topActivatingPatches(model, 'layer2', dev.x, units, { k: 8, field });
  await saveTopPatches(join(outDir, 'top-patches-layer2.png'), top);
  const mark = ['o', 's', 't', '*'];
  const classesOf = top.hits.map((hs) => hs.map((h) => mark[dev.y.dataSync()[h.image]!]).join(''));
  console.log(`conv1 filters, layer1/layer3 feature maps of dev image 3 (${SHAPE_CLASSES[dev.y.dataSync()[3]!]}), top-8 dev patches of layer2 units 0–7 (field ${field.size.join('×')} px, jump ${field.jump.join('×')})`);
  console.log(`classes of each unit's top-8 images (o/s/t/* = circle/square/triangle/star): ${classesOf.join(' ')}`);
  console.log(`PNGs in ${outDir}`);

  const total = Number(since(start));
  console.log(`\nTotal ${total.toFixed(1)} s on backend ${getBackend().name}.`);
  console.log(`Target ResNet-18 >= ${pct(TARGET)} on the dev shapes: ${acc >= TARGET ? 'met' : `NOT met (${pct(acc)})`}; ORT agreement: ${ort.maxAbsDiff < 1e-3 ? 'met' : 'NOT met'}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exitCode = 1;
});
