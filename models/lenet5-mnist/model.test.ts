/**
 * The model card's figures, checked against the committed files: model.onnx on ONNX Runtime over
 * the held-out test digits (and the dev digits) must give the card's accuracies, model.safetensors
 * loaded into @kiln/vision's lenet5 must predict the same, and the stated file size must be true.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { noGrad, pad, type Tensor } from '@kiln/tensor';
import { parseSafetensors } from '@kiln/nn';
import { accuracy, loadMnistSplits, predictions } from '@kiln/data';
import { createSession, runSession } from '@kiln/onnx';
import { lenet5 } from '@kiln/vision/models';

const here = dirname(fileURLToPath(import.meta.url));
const card = readFileSync(join(here, 'README.md'), 'utf8');
const metrics = JSON.parse(readFileSync(join(here, 'metrics.json'), 'utf8')) as { devAccuracy: number; testAccuracy: number; splits: Record<string, number>; recipe: { seed: number; variant: string } };

/** A percentage from the card's metrics table row that starts with `label`. */
function cardPercent(label: string): number {
  const m = new RegExp(`^\\| ${label}[^|]*\\|\\s*\\**([\\d.]+)%`, 'm').exec(card);
  if (!m) throw new Error(`the card has no '${label}' row`);
  return Number((Number(m[1]) / 100).toFixed(6));
}

// the same split the training used (seed from metrics.json), digits padded to 32×32 as in training
const splits = loadMnistSplits({ seed: metrics.recipe.seed });
const pad2 = (t: Tensor) => pad(t, [2, 2, 2, 2]);

describe('models/lenet5-mnist', () => {
  it('the card states model.onnx\'s true size', () => {
    const bytes = statSync(join(here, 'model.onnx')).size;
    expect(card).toContain(`${bytes.toLocaleString('en-US')} bytes`);
    expect(bytes).toBeLessThan(1 << 20); // small enough for git
  });

  it('ONNX Runtime reproduces the card\'s held-out test accuracy and dev accuracy', async () => {
    const session = await createSession(new Uint8Array(readFileSync(join(here, 'model.onnx'))), { backend: 'node' });
    const acc = async (x: Tensor, y: Tensor) => accuracy(predictions((await runSession(session, { input: pad2(x) })).logits!), y);
    const test = await acc(splits.test.images, splits.test.labels);
    expect(splits.test.labels.shape[0]).toBe(metrics.splits.test);
    expect(test).toBe(cardPercent('test accuracy'));
    expect(test).toBe(metrics.testAccuracy);
    const dev = await acc(splits.dev.images, splits.dev.labels);
    expect(dev).toBe(cardPercent('dev accuracy'));
    expect(dev).toBe(metrics.devAccuracy);
  });

  it('model.safetensors in @kiln/vision\'s lenet5 predicts what model.onnx predicts', async () => {
    const model = lenet5({ variant: metrics.recipe.variant as 'modern' });
    model.loadStateDict(parseSafetensors(new Uint8Array(readFileSync(join(here, 'model.safetensors')))).tensors);
    model.eval();
    const x = pad2(splits.test.images.slice(0, 0, 200));
    const kiln = noGrad(() => model.forward(x));
    const session = await createSession(new Uint8Array(readFileSync(join(here, 'model.onnx'))), { backend: 'node' });
    const ort = (await runSession(session, { input: x })).logits!;
    expect(Array.from(predictions(kiln))).toEqual(Array.from(predictions(ort)));
    const a = kiln.dataSync(), b = ort.dataSync();
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(Number(a[i]) - Number(b[i])));
    expect(worst).toBeLessThan(1e-4);
  });
});
