import { noGrad, type Tensor } from '@kiln/tensor';
import type { Module } from '@kiln/nn';
import { accuracy, predictions } from '@kiln/data';
import { createSession, runSession, saveOnnx } from '@kiln/onnx';

export interface OrtCheck {
  path: string;
  kilnAccuracy: number;
  ortAccuracy: number;
  /** Largest |Kiln logit − ORT logit| over every digit and class. */
  maxAbsDiff: number;
  /** Kiln's predicted class of each digit and its softmax probability. */
  predicted: Int32Array;
  confidence: Float32Array;
}

/**
 * Exports `model` (eval mode, symbolic batch) to `<path>`, loads that file into onnxruntime-node
 * and runs a labelled set (the test digits in the demo) through ORT and through Kiln in batches,
 * comparing the logits.
 */
export async function checkOnOrt(
  model: Module, devX: Tensor, devY: Tensor, path: string, options: { batchSize?: number; metadata?: Record<string, string> } = {},
): Promise<OrtCheck> {
  const batchSize = options.batchSize ?? 500;
  model.eval();
  await saveOnnx(path, model, devX.slice(0, 0, 2), { dynamicAxes: true, inputNames: ['input'], outputNames: ['logits'], metadata: options.metadata });
  const session = await createSession(path, { backend: 'node' });
  const n = devX.shape[0]!;
  const kilnPred = new Int32Array(n), ortPred = new Int32Array(n), confidence = new Float32Array(n);
  let maxAbsDiff = 0;
  for (let start = 0; start < n; start += batchSize) {
    const x = devX.slice(0, start, Math.min(n, start + batchSize));
    const kiln = noGrad(() => model.forward(x) as Tensor);
    const ort = (await runSession(session, { input: x })).logits!;
    if (ort.shape.join() !== kiln.shape.join()) throw new Error(`demo: ORT gave logits [${ort.shape.join(',')}], Kiln [${kiln.shape.join(',')}]`);
    const a = kiln.dataSync(), b = ort.dataSync();
    for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(Number(a[i]) - Number(b[i])));
    kilnPred.set(predictions(kiln), start);
    confidence.set(kiln.softmax(1).max(1).dataSync() as Float32Array, start);
    ortPred.set(predictions(ort), start);
  }
  return { path, kilnAccuracy: accuracy(kilnPred, devY), ortAccuracy: accuracy(ortPred, devY), maxAbsDiff, predicted: kilnPred, confidence };
}
