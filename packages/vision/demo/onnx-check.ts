import { noGrad, type Tensor } from '@kiln/tensor';
import type { Module } from '@kiln/nn';
import { accuracy, predictions } from '@kiln/data';
import { createSession, runSession, saveOnnx } from '@kiln/onnx';

export interface OrtCheck { kilnAccuracy: number; ortAccuracy: number; maxAbsDiff: number; agree: number }

/** Exports `model` (eval mode, dynamic batch) to `path`, runs the dev set on onnxruntime-node and on Kiln, and compares. */
export async function checkOnOrt(model: Module, x: Tensor, y: Tensor, path: string, batchSize = 250): Promise<OrtCheck> {
  model.eval();
  await saveOnnx(path, model, x.narrow(0, 0, 2), { dynamicAxes: true, inputNames: ['image'], outputNames: ['logits'], metadata: { 'kiln.demo.input': 'RGB [N, 3, 32, 32] in [0, 1]', 'kiln.demo.classes': 'circle,square,triangle,star' } });
  const session = await createSession(path, { backend: 'node' });
  const n = x.shape[0]!, kp = new Int32Array(n), op = new Int32Array(n);
  let maxAbsDiff = 0;
  for (let s = 0; s < n; s += batchSize) {
    const xb = x.narrow(0, s, Math.min(batchSize, n - s));
    const kiln = noGrad(() => model.forward(xb) as Tensor);
    const ort = (await runSession(session, { image: xb })).logits!;
    const a = kiln.dataSync(), b = ort.dataSync();
    for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(Number(a[i]) - Number(b[i])));
    kp.set(predictions(kiln), s);
    op.set(predictions(ort), s);
  }
  let agree = 0;
  for (let i = 0; i < n; i++) if (kp[i] === op[i]) agree++;
  return { kilnAccuracy: accuracy(kp, y), ortAccuracy: accuracy(op, y), maxAbsDiff, agree: agree / n };
}
