import { describe, expect, it } from 'vitest';
import { manualSeed, tensor, zeros, type Tensor } from '@kiln/tensor';
import { expectClose } from '@kiln/tensor/testing';
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Conv3d, ConvTranspose2d, Dropout, ELU, Embedding, Flatten,
  GELU, gradcheckModule, Identity, LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool2d, Module, ModuleList, ReLU, Sequential, Sigmoid,
  Softmax, Tanh, Upsample,
} from '../index.js';

const f64 = (data: number[], shape: number[]) => tensor(Float64Array.from(data), { shape });

function seq(n: number, shape: number[], scale = 0.1): Tensor {
  return f64(Array.from({ length: n }, (_, i) => Math.sin(i + 1) * scale * 10), shape).requiresGrad_();
}

function expectGradOk(m: Module, inputs: Tensor[], loss?: (y: Tensor) => Tensor) {
  const r = gradcheckModule(m, inputs, loss);
  expect(r.ok, JSON.stringify(r)).toBe(true);
}

describe('Linear', () => {
  it('computes x·Wᵀ + b (hand values)', () => {
    const l = new Linear(2, 2);
    l.loadStateDict({ weight: tensor([[1, 2], [3, 4]]), bias: tensor([0.5, -1]) });
    expectClose(l.forward(tensor([[1, 1], [2, 0]])), [[3.5, 6], [2.5, 5]]);
  });
  it('default init is within PyTorch bounds', () => {
    manualSeed(0);
    const l = new Linear(16, 4);
    const bound = 1 / 4; // kaiming_uniform(a=√5) bound = 1/√fan_in = bias bound
    expect(l.weight.abs().max().item()).toBeLessThanOrEqual(bound);
    expect(l.bias!.abs().max().item()).toBeLessThanOrEqual(bound);
    expect(l.weight.abs().max().item()).toBeGreaterThan(bound * 0.7);
  });
  it('gradchecks input and parameters', () => expectGradOk(new Linear(3, 2), [seq(6, [2, 3])]));
  it('names itself and the shapes on bad input', () => {
    expect(() => new Linear(3, 2).forward(zeros([2, 4]))).toThrow(/Linear: expected last dim 3 \(inFeatures\), got input of shape \[2,4\]/);
    expect(() => new Linear(2, 2).forward(tensor([[1, 2]], { dtype: 'int32' }))).toThrow(/^Kiln: Linear: expected a float32 or float64 input, got int32 \[1,2\] \(cast with \.float\(\)\)$/);
  });
  it('validates its options: a misspelt or mistyped option is an error, not ignored', () => {
    expect(() => new Linear(3, 2, { bais: false } as never)).toThrow(/Kiln: Linear: unknown option 'bais' \(known: bias, dtype\)/);
    expect(() => new Linear(3, 2, { dtype: 'int32' } as never)).toThrow(/Kiln: Linear: option 'dtype' must be 'float32' or 'float64', got 'int32'/);
  });
});

describe('activations and containers', () => {
  const x = f64([-2, -0.5, 0, 1.5], [1, 4]);
  it('forward values', () => {
    expectClose(new ReLU().forward(x), [[0, 0, 0, 1.5]]);
    expectClose(new LeakyReLU(0.1).forward(x), [[-0.2, -0.05, 0, 1.5]]);
    expectClose(new ELU().forward(x), [[Math.exp(-2) - 1, Math.exp(-0.5) - 1, 0, 1.5]]);
    expectClose(new Sigmoid().forward(x), [[-2, -0.5, 0, 1.5].map((v) => 1 / (1 + Math.exp(-v)))]);
    expectClose(new Tanh().forward(x), [[-2, -0.5, 0, 1.5].map(Math.tanh)]);
    const e = [-2, -0.5, 0, 1.5].map(Math.exp);
    const s = e.reduce((a, b) => a + b);
    expectClose(new Softmax(1).forward(x), [e.map((v) => v / s)]);
    expectClose(new LogSoftmax(1).forward(x), [e.map((v) => Math.log(v / s))]);
    expectClose(new GELU().forward(f64([1], [1])), [0.8413447460685429]);
    expectClose(new Identity().forward(x), x);
    expect(new Flatten().forward(zeros([2, 3, 4])).shape).toEqual([2, 12]);
  });
  it('constructor arguments that would give NaN or another formula are errors', () => {
    expect(() => new LeakyReLU(Number.NaN)).toThrow(/^Kiln: LeakyReLU: negativeSlope must be a finite number, got NaN$/);
    expect(() => new LeakyReLU('0.1' as never)).toThrow(/^Kiln: LeakyReLU: negativeSlope must be a finite number, got '0\.1'$/);
    expect(() => new ELU(Number.NaN)).toThrow(/^Kiln: ELU: alpha must be a finite number, got NaN$/);
    expect(() => new GELU('erf' as never)).toThrow(/^Kiln: GELU: approximate must be 'none' or 'tanh', got "erf"$/);
  });
  it('gradchecks', () => {
    for (const m of [new Sigmoid(), new Tanh(), new LeakyReLU(0.2), new ELU(), new GELU(), new GELU('tanh'), new Softmax(1), new LogSoftmax(1)]) {
      expectGradOk(m, [f64([-1.3, -0.4, 0.3, 1.1, 0.7, -0.9], [2, 3]).requiresGrad_()], (y) => y.mul(f64([1, 2, 3, -1, 0.5, 2], [2, 3])).sum());
    }
  });
  it('Sequential and ModuleList index their modules', () => {
    const s = new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
    expect(s.length).toBe(3);
    expect(s.at(-1)).toBeInstanceOf(Linear);
    expect(s.forward(zeros([4, 2])).shape).toEqual([4, 1]);
    expectGradOk(s, [seq(4, [2, 2])]);
    const l = new ModuleList([new Linear(1, 1), new Linear(1, 1)]);
    expect(Object.keys(l.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect([...l].length).toBe(2);
  });
});

describe('Dropout', () => {
  it('keeps the expectation in training and is the identity in eval', () => {
    manualSeed(3);
    const d = new Dropout(0.3);
    const y = d.forward(zeros([20000]).add(1));
    const data = y.dataSync();
    let zerosCount = 0;
    for (const v of data) if (v === 0) zerosCount++; else expect(v).toBeCloseTo(1 / 0.7, 5);
    expect(zerosCount / data.length).toBeGreaterThan(0.28);
    expect(zerosCount / data.length).toBeLessThan(0.32);
    expect(y.mean().item()).toBeGreaterThan(0.97);
    expect(y.mean().item()).toBeLessThan(1.03);
    d.eval();
    const x = tensor([1, 2, 3]);
    expect(d.forward(x)).toBe(x);
  });
});

describe('BatchNorm', () => {
  it('normalises with batch stats and updates running stats (unbiased var)', () => {
    const bn = new BatchNorm1d(2, { dtype: 'float64' });
    const x = f64([1, 10, 3, 20, 5, 30], [3, 2]);
    const y = bn.forward(x);
    // channel 0: mean 3, biased var 8/3; channel 1: mean 20, biased var 200/3
    const s0 = Math.sqrt(8 / 3 + 1e-5), s1 = Math.sqrt(200 / 3 + 1e-5);
    expectClose(y, [[-2 / s0, -10 / s1], [0, 0], [2 / s0, 10 / s1]]);
    expectClose(bn.running_mean!, [0.3, 2]);
    expectClose(bn.running_var!, [0.9 + 0.1 * 4, 0.9 + 0.1 * 100]);
    expect(bn.num_batches_tracked!.item()).toBe(1);
    bn.eval();
    expectClose(bn.forward(f64([0.3, 2], [1, 2])), [[0, 0]], { atol: 1e-12 });
    expectClose(bn.forward(f64([1.3, 2], [1, 2])), [[1 / Math.sqrt(1.3 + 1e-5), 0]]);
    expect(bn.num_batches_tracked!.item()).toBe(1);
  });
  it('BatchNorm2d reduces over N, H, W', () => {
    const bn = new BatchNorm2d(1, { dtype: 'float64' });
    const y = bn.forward(f64([1, 2, 3, 4], [1, 1, 2, 2]));
    expect(y.mean().item()).toBeCloseTo(0, 12);
    expectClose(bn.running_mean!, [0.25]);
    expectClose(bn.running_var!, [0.9 + 0.1 * (5 / 3)]);
  });
  it('gradchecks in training and eval', () => {
    const bn = new BatchNorm2d(2);
    expectGradOk(bn, [seq(16, [2, 2, 2, 2])], (y) => y.mul(seq(16, [2, 2, 2, 2]).detach()).sum());
    bn.eval();
    expectGradOk(bn, [seq(16, [2, 2, 2, 2])]);
    expectGradOk(new BatchNorm1d(3), [seq(6, [2, 3])], (y) => y.mul(seq(6, [2, 3]).detach().add(0.2)).sum());
  });
  it('bad input names the layer', () => {
    expect(() => new BatchNorm2d(3).forward(zeros([2, 4, 2, 2]))).toThrow(/BatchNorm2d: expected 4-d input with 3 channels in dim 1, got input of shape \[2,4,2,2\]/);
    expect(() => new BatchNorm1d(2).forward(zeros([1, 2]))).toThrow(/more than 1 value per channel/);
  });
});

describe('LayerNorm and Embedding', () => {
  it('LayerNorm hand values and gradcheck', () => {
    const ln = new LayerNorm(2, { dtype: 'float64' });
    const r1 = 1 / Math.sqrt(1 + 1e-5), r4 = 2 / Math.sqrt(4 + 1e-5);
    expectClose(ln.forward(f64([1, 3, -2, 2], [2, 2])), [[-r1, r1], [-r4, r4]]);
    expectGradOk(new LayerNorm([3]), [seq(6, [2, 3])], (y) => y.mul(seq(6, [2, 3]).detach()).sum());
    expect(() => ln.forward(zeros([2, 3]))).toThrow(/LayerNorm: expected trailing dims \[2\]/);
  });
  it('Embedding looks up rows; padding row is zero and gets no gradient', () => {
    manualSeed(0);
    const e = new Embedding(4, 2, { paddingIdx: 0 });
    expect(e.weight.toArray()).toContainEqual([0, 0]);
    const idx = tensor([[1, 0], [3, 1]], { dtype: 'int32' });
    const y = e.forward(idx);
    expect(y.shape).toEqual([2, 2, 2]);
    expect((y.toArray() as number[][][])[1]![0]).toEqual((e.weight.toArray() as number[][])[3]);
    y.sum().backward();
    expect(e.weight.grad!.toArray()).toEqual([[0, 0], [2, 2], [0, 0], [1, 1]]);
    expect(() => e.forward(tensor([4], { dtype: 'int32' }))).toThrow(/Embedding: index 4 out of range for 4/);
    expect(() => e.forward(tensor([1]))).toThrow(/Embedding: expected int32 indices/);
    const e2 = new Embedding(3, 2);
    e2.double();
    const r = gradcheckModule(e2, [tensor([0, 2, 2], { dtype: 'int32' })]);
    expect(r.ok).toBe(true);
  });
});

describe('normalisation and embedding constructors check their arguments', () => {
  it('BatchNorm options', () => {
    expect(() => new BatchNorm2d(4, { track_running_stats: false } as never)).toThrow(/Kiln: BatchNorm2d: unknown option 'track_running_stats'/);
    expect(() => new BatchNorm1d(4, { eps: Number.NaN })).toThrow(/Kiln: BatchNorm1d: option 'eps' must be a finite number, got NaN/);
    expect(() => new BatchNorm1d(4, { momentum: '0.1' } as never)).toThrow(/Kiln: BatchNorm1d: option 'momentum' must be a finite number or null, got '0.1'/);
    expect(new BatchNorm1d(4, { momentum: null }).momentum).toBe(null);
  });
  it('LayerNorm options and normalizedShape', () => {
    expect(() => new LayerNorm(4, { elementwise_affine: false } as never)).toThrow(/Kiln: LayerNorm: unknown option 'elementwise_affine'/);
    expect(() => new LayerNorm(0)).toThrow(/Kiln: LayerNorm: normalizedShape must be a positive integer or a non-empty array of them, got 0/);
    expect(() => new LayerNorm([2, 1.5])).toThrow(/Kiln: LayerNorm: normalizedShape .* got \[2,1\.5\]/);
    expect(() => new LayerNorm([])).toThrow(/Kiln: LayerNorm: normalizedShape .* got \[\]/);
  });
  it('Embedding options and sizes', () => {
    expect(() => new Embedding(10, 4, { padding_idx: 0 } as never)).toThrow(/Kiln: Embedding: unknown option 'padding_idx' \(known: paddingIdx, dtype\)/);
    expect(() => new Embedding(10, 4, { dtype: 'int32' } as never)).toThrow(/Kiln: Embedding: option 'dtype' must be 'float32' or 'float64', got 'int32'/);
    expect(() => new Embedding(10.5, 4)).toThrow(/Kiln: Embedding: numEmbeddings must be a positive integer, got 10\.5/);
    expect(() => new Embedding(10, 0)).toThrow(/Kiln: Embedding: embeddingDim must be a positive integer, got 0/);
  });
});

describe('convolution and pooling layers', () => {
  it('Conv2d hand values', () => {
    const c = new Conv2d(1, 1, 2, { dtype: 'float64' });
    c.loadStateDict({ weight: f64([1, 0, 0, -1], [1, 1, 2, 2]), bias: f64([0.5], [1]) });
    expectClose(c.forward(f64([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3])), [[[[1 - 5 + 0.5, 2 - 6 + 0.5], [4 - 8 + 0.5, 5 - 9 + 0.5]]]]);
  });
  it('shapes and gradchecks', () => {
    expectGradOk(new Conv1d(2, 2, 2, { padding: 1 }), [seq(8, [1, 2, 4])]);
    expectGradOk(new Conv2d(2, 2, 2, { stride: 2, groups: 2 }), [seq(32, [1, 2, 4, 4])]);
    expectGradOk(new Conv3d(1, 1, 2), [seq(8, [1, 1, 2, 2, 2])]);
    const t = new ConvTranspose2d(2, 1, 2, { stride: 2 });
    expect(t.weight.shape).toEqual([2, 1, 2, 2]);
    expect(t.forward(zeros([1, 2, 3, 3])).shape).toEqual([1, 1, 6, 6]);
    expectGradOk(t, [seq(8, [1, 2, 2, 2])]);
  });
  it('conv errors name the layer and shapes', () => {
    expect(() => new Conv2d(3, 4, 3).forward(zeros([1, 2, 5, 5]))).toThrow(/Conv2d: expected \[N, 3, \.\.\.2 spatial dims\].*\[1,2,5,5\]/);
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/divisible by groups 2/);
  });
  it('conv options are validated: a misspelt or mistyped option is an error, not ignored', () => {
    expect(() => new Conv2d(3, 4, 3, { strides: 2 } as never)).toThrow(/Kiln: Conv2d: unknown option 'strides' \(known: stride, dilation, groups, bias, dtype, padding\)/);
    expect(() => new Conv1d(3, 4, 3, { padding: 'full' } as never)).toThrow(/Kiln: Conv1d: option 'padding' must be an integer, an array of them, 'same' or 'valid', got 'full'/);
    expect(() => new Conv2d(3, 4, 3, { stride: 1.5 })).toThrow(/Kiln: Conv2d: option 'stride' must be a positive integer or an array of them, got 1\.5/);
    expect(() => new ConvTranspose2d(3, 4, 3, { output_padding: 1 } as never)).toThrow(/Kiln: ConvTranspose2d: unknown option 'output_padding'/);
    expect(() => new ConvTranspose2d(3, 4, 3, { padding: 'same' } as never)).toThrow(/Kiln: ConvTranspose2d: option 'padding' must be a positive integer or an array of them, got 'same'/);
    expect(new Conv2d(3, 4, 3, { padding: 'same' }).forward(zeros([1, 3, 5, 5])).shape).toEqual([1, 4, 5, 5]);
  });
  it('pool and upsample constructors validate kernel sizes and options', () => {
    expect(() => new MaxPool2d(2, { ceil_mode: true } as never)).toThrow(/Kiln: MaxPool2d: unknown option 'ceil_mode'/);
    expect(() => new MaxPool2d(2.5)).toThrow(/Kiln: MaxPool2d: kernelSize must be a positive integer or an array of them, got 2\.5/);
    expect(() => new AvgPool2d(0)).toThrow(/Kiln: AvgPool2d: kernelSize must be a positive integer or an array of them, got 0/);
    expect(() => new AvgPool2d(2, { count_include_pad: false } as never)).toThrow(/Kiln: AvgPool2d: unknown option 'count_include_pad'/);
    expect(() => new AdaptiveAvgPool2d(0)).toThrow(/Kiln: AdaptiveAvgPool2d: outputSize must be a positive integer or 2 of them .* got 0/);
    expect(() => new Upsample({ scale_factor: 2 } as never)).toThrow(/Kiln: Upsample: unknown option 'scale_factor'/);
    expect(() => new Upsample({ scaleFactor: 2, mode: 'bicubic' } as never)).toThrow(/Kiln: Upsample: option 'mode' must be one of 'nearest', 'linear', 'bilinear', 'trilinear', got 'bicubic'/);
  });
  it('pooling and upsampling', () => {
    const x = f64([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
    expectClose(new MaxPool2d(2).forward(x), [[[[6, 8], [14, 16]]]]);
    expectClose(new AvgPool2d(2).forward(x), [[[[3.5, 5.5], [11.5, 13.5]]]]);
    expectClose(new AdaptiveAvgPool2d(1).forward(x), [[[[8.5]]]]);
    expectClose(new Upsample({ scaleFactor: 2 }).forward(f64([1, 2], [1, 1, 1, 2])), [[[[1, 1, 2, 2], [1, 1, 2, 2]]]]);
    for (const m of [new MaxPool2d(2), new AvgPool2d(2), new AdaptiveAvgPool2d([1, 2]), new Upsample({ scaleFactor: 2, mode: 'bilinear' })]) {
      expectGradOk(m, [seq(16, [1, 1, 4, 4])], (y) => y.square().sum());
    }
    expect(() => new MaxPool2d(2).forward(zeros([4, 4]))).toThrow(/MaxPool2d: expected \[N, C, H, W\].*\[4,4\]/);
  });
});
