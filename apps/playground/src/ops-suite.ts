/**
 * A browser run of @kiln/tensor's main ops: every case computes the forward value and the
 * gradients of every input (backward of a weighted sum of the output) on the `wasm` backend and
 * on the `reference` backend (the specification) and compares them; a few float64 gradchecks
 * run on the wasm backend too. Shapes are large enough for the GEMM and convolution kernels to
 * use the worker threads where the page is cross-origin isolated.
 */
import * as K from '@kiln/tensor';
import { Tensor, withBackend, gradcheck } from '@kiln/tensor';

export interface OpResult { name: string; kind: 'parity' | 'gradcheck'; ok: boolean; maxErr: number; detail?: string }

interface Case { name: string; shapes: number[][]; positive?: number[]; fn: (...xs: Tensor[]) => Tensor; tol?: number }

/** Deterministic inputs (mulberry32 → roughly normal), independent of the backend and of K's RNG. */
function values(n: number, seed: number, positive: boolean): Float32Array {
  let s = seed >>> 0;
  const u = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) { const v = (u() + u() + u() - 1.5) * 2; out[i] = positive ? 0.5 + Math.abs(v) : v; }
  return out;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

const CASES: Case[] = [
  { name: 'add (broadcast)', shapes: [[8, 16], [16]], fn: (a, b) => K.add(a, b) },
  { name: 'sub', shapes: [[4, 32], [4, 32]], fn: (a, b) => K.sub(a, b) },
  { name: 'mul (broadcast)', shapes: [[3, 1, 10], [5, 1]], fn: (a, b) => K.mul(a, b) },
  { name: 'div', shapes: [[6, 20], [6, 20]], positive: [1], fn: (a, b) => K.div(a, b) },
  { name: 'pow', shapes: [[50], [50]], positive: [0], fn: (a, b) => K.pow(a, b) },
  { name: 'maximum', shapes: [[40], [40]], fn: (a, b) => K.maximum(a, b) },
  { name: 'exp', shapes: [[64]], fn: (a) => K.exp(a) },
  { name: 'log', shapes: [[64]], positive: [0], fn: (a) => K.log(a) },
  { name: 'sqrt', shapes: [[64]], positive: [0], fn: (a) => K.sqrt(a) },
  { name: 'tanh', shapes: [[64]], fn: (a) => K.tanh(a) },
  { name: 'sigmoid', shapes: [[64]], fn: (a) => K.sigmoid(a) },
  { name: 'relu', shapes: [[2048]], fn: (a) => K.relu(a) },
  { name: 'gelu', shapes: [[64]], fn: (a) => K.gelu(a) },
  { name: 'leakyRelu', shapes: [[64]], fn: (a) => K.leakyRelu(a, 0.1) },
  { name: 'elu', shapes: [[64]], fn: (a) => K.elu(a) },
  { name: 'softplus', shapes: [[64]], fn: (a) => K.softplus(a) },
  { name: 'sum (dim 1)', shapes: [[6, 7, 8]], fn: (a) => K.sum(a, 1) },
  { name: 'mean (all)', shapes: [[6, 7, 8]], fn: (a) => K.mean(a) },
  { name: 'max (dim 2)', shapes: [[5, 6, 9]], fn: (a) => K.max(a, 2) },
  { name: 'logsumexp', shapes: [[7, 11]], fn: (a) => K.logsumexp(a, 1) },
  { name: 'var', shapes: [[7, 11]], fn: (a) => K.variance(a, 1) },
  { name: 'softmax', shapes: [[9, 10]], fn: (a) => K.softmax(a, 1) },
  { name: 'logSoftmax', shapes: [[9, 10]], fn: (a) => K.logSoftmax(a, 1) },
  { name: 'matmul 96×80·80×72', shapes: [[96, 80], [80, 72]], fn: (a, b) => K.matmul(a, b), tol: 2e-4 },
  { name: 'batched matmul', shapes: [[3, 20, 30], [3, 30, 25]], fn: (a, b) => K.matmul(a, b), tol: 2e-4 },
  { name: 'linear', shapes: [[64, 100], [48, 100], [48]], fn: (x, w, b) => K.linear(x, w, b), tol: 2e-4 },
  { name: 'conv2d 3×3 pad 1', shapes: [[4, 8, 16, 16], [16, 8, 3, 3], [16]], fn: (x, w, b) => K.conv2d(x, w, b, { padding: 1 }), tol: 2e-4 },
  { name: 'conv2d 5×5 stride 2', shapes: [[2, 3, 15, 15], [6, 3, 5, 5]], fn: (x, w) => K.conv2d(x, w, null, { stride: 2 }), tol: 2e-4 },
  { name: 'conv2d depthwise', shapes: [[2, 8, 10, 10], [8, 1, 3, 3]], fn: (x, w) => K.conv2d(x, w, null, { padding: 1, groups: 8 }), tol: 2e-4 },
  { name: 'convTranspose2d', shapes: [[2, 4, 6, 6], [4, 3, 3, 3]], fn: (x, w) => K.convTranspose2d(x, w, null, { stride: 2 }), tol: 2e-4 },
  { name: 'maxPool2d 2', shapes: [[2, 6, 12, 12]], fn: (x) => K.maxPool2d(x, 2) as Tensor },
  { name: 'avgPool2d 3 stride 2', shapes: [[2, 3, 11, 11]], fn: (x) => K.avgPool2d(x, 3, { stride: 2 }) },
  { name: 'adaptiveAvgPool2d', shapes: [[2, 3, 9, 9]], fn: (x) => K.adaptiveAvgPool2d(x, [2, 2]) },
  { name: 'transpose + reshape', shapes: [[4, 5, 6]], fn: (x) => K.reshape(K.transpose(x, 0, 2), [6, 20]) },
  { name: 'permute', shapes: [[2, 3, 4, 5]], fn: (x) => K.permute(x, [3, 1, 0, 2]) },
  { name: 'cat', shapes: [[3, 4], [5, 4]], fn: (a, b) => K.cat([a, b], 0) },
  { name: 'slice', shapes: [[10, 8]], fn: (x) => K.slice(x, 0, 1, 9, 2) },
  { name: 'pad', shapes: [[2, 3, 4]], fn: (x) => K.pad(x, [1, 2, 0, 1]) },
];

function run(backend: string, c: Case, data: Float32Array[], weight: Float32Array | null): { out: Float32Array; grads: Float32Array[]; shape: readonly number[] } {
  return withBackend(backend, () => {
    const xs = c.shapes.map((s, i) => K.tensor(data[i]!.slice(), { shape: s, requiresGrad: true }));
    const y = c.fn(...xs);
    const w = weight ?? values(size([...y.shape]), 99, false);
    K.sum(K.mul(y, K.tensor(w, { shape: y.shape }))).backward();
    return { out: y.dataSync() as Float32Array, grads: xs.map((x) => x.grad!.dataSync() as Float32Array), shape: y.shape };
  });
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let scale = 1, err = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? err / scale : Infinity;
}

function parity(c: Case, seed: number): OpResult {
  const data = c.shapes.map((s, i) => values(size(s), seed * 10 + i, c.positive?.includes(i) ?? false));
  const ref = run('reference', c, data, null);
  const weight = values(size([...ref.shape]), 99, false);
  const got = run('wasm', c, data, weight);
  let err = maxRelErr(got.out, ref.out);
  got.grads.forEach((g, i) => { err = Math.max(err, maxRelErr(g, ref.grads[i]!)); });
  const tol = c.tol ?? 1e-5;
  return { name: c.name, kind: 'parity', ok: err <= tol && got.shape.join() === ref.shape.join(), maxErr: err, detail: `shape ${ref.shape.join('×')}` };
}

function f64(shape: number[], seed: number, positive = false): Tensor {
  return K.tensor(Float64Array.from(values(size(shape), seed, positive)), { shape, dtype: 'float64', requiresGrad: true });
}

const GRADCHECKS: Array<{ name: string; inputs: () => Tensor[]; fn: (...xs: Tensor[]) => Tensor }> = [
  { name: 'gradcheck conv2d', inputs: () => [f64([1, 2, 5, 5], 1), f64([3, 2, 3, 3], 2)], fn: (x, w) => K.conv2d(x, w, null, { padding: 1 }) },
  { name: 'gradcheck matmul', inputs: () => [f64([4, 5], 3), f64([5, 3], 4)], fn: (a, b) => K.matmul(a, b) },
  { name: 'gradcheck logSoftmax', inputs: () => [f64([3, 6], 5)], fn: (x) => K.logSoftmax(x, 1) },
  { name: 'gradcheck maxPool2d', inputs: () => [f64([1, 2, 4, 4], 6)], fn: (x) => K.maxPool2d(x, 2) as Tensor },
];

/** Runs every case; each result says whether it passed and the largest error seen. */
export function runOpSuite(): OpResult[] {
  const results: OpResult[] = CASES.map((c, i) => {
    try { return parity(c, i + 1); } catch (e) { return { name: c.name, kind: 'parity', ok: false, maxErr: NaN, detail: String((e as Error).message) }; }
  });
  for (const g of GRADCHECKS) {
    try {
      const r = withBackend('wasm', () => gradcheck(g.fn, g.inputs(), { raise: false }));
      results.push({ name: g.name, kind: 'gradcheck', ok: r.ok, maxErr: r.relativeError });
    } catch (e) {
      results.push({ name: g.name, kind: 'gradcheck', ok: false, maxErr: NaN, detail: String((e as Error).message) });
    }
  }
  return results;
}
