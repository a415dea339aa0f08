/**
 * Checks a PyTorch-exported model written by scripts/gen_real_models.py: import, match PyTorch's
 * output, then fine-tune with the same plain SGD steps and compare every step's loss and the final
 * output (test support, not shipped).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, noGrad } from '@kiln/tensor';
import { crossEntropy } from '@kiln/nn';
import { importOnnx } from '../import.js';

interface Arr { dtype: string; shape: number[]; data: string }
export interface RealModelRecord {
  model: string; input: Arr; output: Arr; labels: number[]; lr: number; steps: number; losses: number[]; output_after: Arr; trainable: string[];
}
export interface RealModelResult {
  model: string; parameters: number; maxRelDiff: number; lossDiffs: number[]; losses: number[]; afterRelDiff: number; importMs: number; forwardMs: number;
}

function toTensor(a: Arr): Tensor {
  const buf = Buffer.from(a.data, 'base64');
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).slice();
  if (a.dtype === 'float32') return new Tensor(new Float32Array(bytes.buffer), a.shape, 'float32');
  if (a.dtype === 'int64') return new Tensor(Int32Array.from(new BigInt64Array(bytes.buffer), Number), a.shape, 'int32');
  throw new Error(`real model record: dtype ${a.dtype}`);
}

/** max |a − b| / max(1, max |b|): error relative to the output's magnitude. */
function relDiff(a: Tensor, b: Tensor): number {
  const x = a.dataSync(), y = b.dataSync();
  if (x.length !== y.length) throw new Error(`real model: ${x.length} vs ${y.length} elements`);
  let d = 0, m = 1;
  for (let i = 0; i < y.length; i++) { d = Math.max(d, Math.abs(Number(x[i]) - Number(y[i]))); m = Math.max(m, Math.abs(Number(y[i]))); }
  return d / m;
}

export function checkRealModel(dir: string, name: string): RealModelResult {
  const rec = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as RealModelRecord;
  let t0 = performance.now();
  const m = importOnnx(new Uint8Array(readFileSync(join(dir, `${name}.onnx`))));
  const importMs = performance.now() - t0;
  const x = toTensor(rec.input);
  t0 = performance.now();
  const y = noGrad(() => m.forward(x)) as Tensor;
  const forwardMs = performance.now() - t0;
  const maxRelDiff = relDiff(y, toTensor(rec.output));
  // PyTorch trains its parameters; BatchNorm running statistics are buffers there, so they stay fixed.
  const params = m.namedParameters().filter(([n]) => !/running_(mean|var)$/.test(n)).map(([, p]) => p);
  const labels = new Tensor(Int32Array.from(rec.labels), [rec.labels.length], 'int32');
  const losses: number[] = [];
  for (let s = 0; s < rec.steps; s++) {
    m.zeroGrad();
    const out = m.forward(x) as Tensor;
    const loss = crossEntropy(out.reshape([-1, out.shape[out.ndim - 1]!]), labels);
    loss.backward();
    losses.push(loss.item());
    noGrad(() => {
      for (const p of params) {
        const w = p.dataSync() as Float32Array, g = p.grad?.dataSync();
        if (g) for (let i = 0; i < w.length; i++) w[i] = w[i]! - rec.lr * Number(g[i]);
      }
    });
  }
  const after = noGrad(() => m.forward(x)) as Tensor;
  return {
    model: name, parameters: params.reduce((a, p) => a + p.numel(), 0), maxRelDiff, losses,
    lossDiffs: losses.map((l, i) => Math.abs(l - rec.losses[i]!) / Math.max(1, Math.abs(rec.losses[i]!))),
    afterRelDiff: relDiff(after, toTensor(rec.output_after)), importMs, forwardMs,
  };
}
