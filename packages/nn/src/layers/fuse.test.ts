/** fuseConvBn: eval outputs unchanged by folding BatchNorm into the convolution before it. */
import { describe, expect, it } from 'vitest';
import { noGrad, tensor, wasmInfo, type Tensor } from '@kiln/tensor';
import {
  BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, countFusable, fuseConvBn, Identity, Linear, Module, ReLU, ReLU6, Sequential,
} from '../index.js';

function values(n: number, seed: number, scale = 1, offset = 0): number[] {
  return Array.from({ length: n }, (_, i) => offset + scale * Math.sin(seed * 3.7 + i * 1.93 + 0.003 * i * i));
}

/** Gives a BatchNorm statistics and affine parameters far from the 0/1 defaults. */
function randomiseBn(bn: BatchNorm1d | BatchNorm2d, seed: number): void {
  const c = bn.numFeatures;
  const dtype = bn.running_mean!.dtype as 'float32' | 'float64';
  noGrad(() => {
    bn.running_mean!.copy_(tensor(values(c, seed, 0.5), { dtype }));
    bn.running_var!.copy_(tensor(values(c, seed + 1, 0.4, 0.7), { dtype }));
    bn.weight!.copy_(tensor(values(c, seed + 2, 0.6, 1), { dtype }));
    bn.bias!.copy_(tensor(values(c, seed + 3, 0.3), { dtype }));
  });
}

/** A MobileNet-like block: pointwise expand, depthwise 3×3 (stride 2), linear projection; nested Sequentials. */
function block(dtype: 'float32' | 'float64' = 'float32'): Sequential {
  const o = { dtype } as const;
  const net = new Sequential(
    new Sequential(new Conv2d(4, 12, 1, { bias: false, ...o }), new BatchNorm2d(12, o), new ReLU6()),
    new Sequential(new Conv2d(12, 12, 3, { stride: 2, padding: 1, groups: 12, bias: false, ...o }), new BatchNorm2d(12, o), new ReLU()),
    new Conv2d(12, 6, 1, o), new BatchNorm2d(6, o),
  );
  let seed = 1;
  for (const m of net.modules()) if (m instanceof BatchNorm2d) randomiseBn(m, seed++ * 5);
  return net.eval();
}

function input(shape: number[], dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const data = values(shape.reduce((a, b) => a * b, 1), 9, 2);
  return tensor(dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data), { shape, dtype });
}

function maxRelDiff(a: Tensor, b: Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let scale = 0;
  for (let i = 0; i < y.length; i++) scale = Math.max(scale, Math.abs(y[i]!));
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d / scale;
}

describe('fuseConvBn', () => {
  it('keeps eval outputs (float32 to 1e-5, float64 to 1e-12) and replaces BatchNorm and ReLU/ReLU6', () => {
    for (const [dtype, tol] of [['float32', 1e-5], ['float64', 1e-12]] as const) {
      const net = block(dtype);
      const x = input([2, 4, 9, 9], dtype);
      const want = noGrad(() => net.forward(x));
      expect(countFusable(net)).toBe(3);
      fuseConvBn(net);
      expect(countFusable(net)).toBe(0);
      expect(net.modules().filter((m) => m instanceof BatchNorm2d)).toHaveLength(0);
      // ReLU6 and ReLU are folded into the convolutions before them; the projection has no activation.
      expect(net.modules().filter((m) => m instanceof Conv2d).map((m) => (m as Conv2d)._outputClamp)).toEqual([[0, 6], [0, Infinity], null]);
      expect(net.modules().filter((m) => m instanceof ReLU || m instanceof ReLU6)).toHaveLength(0);
      expect((net.at(0) as Sequential).at(1)).toBeInstanceOf(Identity);
      const got = noGrad(() => net.forward(x));
      expect(got.shape).toEqual(want.shape);
      const rel = maxRelDiff(got, want);
      expect(rel, dtype).toBeLessThan(tol);
      // float32 folded weights move into the wasm backend's shared memory, read there in place.
      const weight = ((net.at(0) as Sequential).at(0) as Conv2d).weight;
      if (dtype === 'float32' && wasmInfo()?.build.endsWith('+threads')) expect(weight.dataSync().buffer).toBeInstanceOf(SharedArrayBuffer);
      // The clamp is exercised: some outputs of the first block sit at 0.
      const first = noGrad(() => (net.at(0) as Sequential).forward(x)).dataSync();
      expect(Math.min(...first)).toBe(0);
    }
  });

  it('folds a Conv1d + BatchNorm1d and a convolution bias', () => {
    const net = new Sequential(new Conv1d(3, 5, 3, { padding: 1 }), new BatchNorm1d(5), new Linear(7, 2));
    randomiseBn(net.at(1) as BatchNorm1d, 3);
    net.eval();
    const x = input([2, 3, 7]);
    const want = noGrad(() => net.forward(x));
    fuseConvBn(net);
    expect(maxRelDiff(noGrad(() => net.forward(x)), want)).toBeLessThan(1e-5);
  });

  it('clamps after the convolution while gradients are recorded (same values), so backward still works', () => {
    const net = fuseConvBn(block());
    const x = input([1, 4, 5, 5]).requiresGrad_();
    const y = net.forward(x);
    expect(Array.from(y.dataSync())).toEqual(Array.from(noGrad(() => net.forward(x)).dataSync()));
    y.sum().backward();
    expect(x.grad?.shape).toEqual([1, 4, 5, 5]);
    const conv = (net.at(0) as Sequential).at(0) as Conv2d;
    expect(conv.weight.grad?.shape).toEqual([12, 4, 1, 1]);
  });

  it('leaves a model without conv–BatchNorm pairs unchanged', () => {
    const net = new Sequential(new Conv2d(2, 2, 1), new ReLU6()).eval();
    const keys = Object.keys(net.stateDict());
    fuseConvBn(net);
    expect(Object.keys(net.stateDict())).toEqual(keys);
    expect(net.at(1)).toBeInstanceOf(ReLU6);
  });

  it('names the problem on bad input', () => {
    expect(() => fuseConvBn(block().train())).toThrow(/fuseConvBn: the model is in training mode/);
    const mismatch = new Sequential(new Conv2d(2, 3, 1), new BatchNorm2d(4)).eval();
    expect(() => fuseConvBn(mismatch)).toThrow(/fuseConvBn: 0: BatchNorm has 4 features but the convolution before it has 3 output channels/);
    const noStats = new Sequential(new Sequential(new Conv2d(2, 3, 1), new BatchNorm2d(3, { trackRunningStats: false }))).eval();
    expect(() => fuseConvBn(noStats)).toThrow(/fuseConvBn: 0\.0: BatchNorm without running statistics/);
    expect(new Module()).toBeInstanceOf(Module);
  });
});
