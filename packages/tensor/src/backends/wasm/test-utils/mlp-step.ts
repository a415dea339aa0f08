// A 120-64-48-10 MLP and its SGD step, shared by the tests of activation blocks
// (activations.test.ts) and of step scopes (step-scope.test.ts, and the Node-only
// step-scope-gc.test.ts that forces a garbage collection).
import { linear, makeResident, noGrad, relu, tensor, type Tensor } from '../../../index.js';
import { wasmActivationStats, wasmInfo } from '../index.js';
import { rand } from './data.js';

export const bits = (a: ArrayLike<number>) => Array.from(new Int32Array(Float32Array.from(a).buffer));
export const shared = wasmInfo()?.build.endsWith('+threads') ?? false;
export const inWasm = (a: ArrayBufferView) => typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
export const live = () => wasmActivationStats()!.liveBlocks;

/** The MLP's weights, optionally moved into the Wasm memory as an optimizer does. */
export function mlp(resident: boolean): Tensor[] {
  const shapes = [[64, 120], [64], [48, 64], [48], [10, 48], [10]];
  const ps = shapes.map((s, i) => tensor(rand(s.reduce((a, b) => a * b, 1), 21 + i).map((v) => v * 0.3), { shape: s, requiresGrad: true }));
  if (resident) makeResident(ps);
  return ps;
}

export const x = tensor(rand(64 * 120, 7), { shape: [64, 120] });
const labels = tensor(Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 10), { shape: [64, 1], dtype: 'int32' });

export function hidden(ps: Tensor[]): Tensor {
  const [w1, b1, w2, b2] = ps as [Tensor, Tensor, Tensor, Tensor];
  return relu(linear(relu(linear(x, w1, b1)), w2, b2));
}

export function lossOf(ps: Tensor[]): Tensor {
  const logits = linear(hidden(ps), ps[4]!, ps[5]!);
  return logits.logSoftmax(1).gather(1, labels).mean().neg();
}

/** One SGD step (the fused kernel for resident parameters, plain in-place updates otherwise). */
export function step(ps: Tensor[]): number {
  for (const p of ps) p.grad = null;
  const loss = lossOf(ps);
  loss.backward();
  noGrad(() => {
    for (const p of ps) p.sub_(p.grad!.mul(0.05));
  });
  return loss.item();
}

