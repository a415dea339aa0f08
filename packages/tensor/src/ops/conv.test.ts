import { expect, it } from 'vitest';
import {
  conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d, tensor, Tensor, noGrad, traceOps, zeros, type TraceRecord,
} from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

interface NaiveConv {
  stride: number[];
  padBegin: number[];
  dilation: number[];
  groups: number;
  outSize: number[];
}

/** Row-major strides of `shape`. */
function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Every index of `shape`, in row-major order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const idx = new Array<number>(shape.length).fill(0);
  if (shape.some((d) => d === 0)) return;
  for (;;) {
    yield [...idx];
    let d = shape.length - 1;
    while (d >= 0 && ++idx[d]! === shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/** Direct definition of (grouped, strided, dilated, padded) cross-correlation, any rank. */
function naiveConv(x: Tensor, w: Tensor, b: Tensor | null, o: NaiveConv): Tensor {
  const [N, C] = x.shape as [number, number];
  const [F, Cg] = w.shape as [number, number];
  const inS = x.shape.slice(2);
  const ks = w.shape.slice(2);
  const xs = stridesOf(x.shape);
  const ws = stridesOf(w.shape);
  const xd = x.dataSync();
  const wd = w.dataSync();
  const outShape = [N, F, ...o.outSize];
  const out = new Float64Array(outShape.reduce((a, c) => a * c, 1));
  let j = 0;
  for (const [n, f, ...pos] of indices(outShape)) {
    const g = Math.floor(f! / (F / o.groups));
    let acc = b ? b.dataSync()[f!]! : 0;
    for (let c = 0; c < Cg; c++) {
      for (const kk of indices(ks)) {
        let off = n! * xs[0]! + (g * Cg + c) * xs[1]!;
        let inside = true;
        kk.forEach((k, d) => {
          const i = pos[d]! * o.stride[d]! - o.padBegin[d]! + k * o.dilation[d]!;
          if (i < 0 || i >= inS[d]!) inside = false;
          off += i * xs[2 + d]!;
        });
        if (!inside) continue;
        let woff = f! * ws[0]! + c * ws[1]!;
        kk.forEach((k, d) => (woff += k * ws[2 + d]!));
        acc += xd[off]! * wd[woff]!;
      }
    }
    out[j++] = acc;
  }
  expect(j).toBe(out.length);
  return tensor(out, { shape: outShape });
}

/** Direct definition of transposed convolution: y[o] += x[i]·w[k] where o = i·s − p + k·d. */
function naiveConvTranspose(x: Tensor, w: Tensor, o: NaiveConv): Tensor {
  const [N, Cin] = x.shape as [number, number];
  const Cg = w.shape[1]!;
  const ks = w.shape.slice(2);
  const outShape = [N, Cg * o.groups, ...o.outSize];
  const os = stridesOf(outShape);
  const ws = stridesOf(w.shape);
  const out = new Float64Array(outShape.reduce((a, c) => a * c, 1));
  const xd = x.dataSync();
  const wd = w.dataSync();
  let j = 0;
  for (const [n, ci, ...pos] of indices(x.shape)) {
    const g = Math.floor(ci! / (Cin / o.groups));
    const v = xd[j++]!;
    for (let c = 0; c < Cg; c++) {
      for (const kk of indices(ks)) {
        let off = n! * os[0]! + (g * Cg + c) * os[1]!;
        let inside = true;
        kk.forEach((k, d) => {
          const p = pos[d]! * o.stride[d]! - o.padBegin[d]! + k * o.dilation[d]!;
          if (p < 0 || p >= o.outSize[d]!) inside = false;
          off += p * os[2 + d]!;
        });
        if (!inside) continue;
        let woff = ci! * ws[0]! + c * ws[1]!;
        kk.forEach((k, d) => (woff += k * ws[2 + d]!));
        out[off] = out[off]! + v * wd[woff]!;
      }
    }
  }
  return tensor(out, { shape: outShape });
}

forEachBackend('conv', () => {
  it('conv1d: hand-computed valid, padded, strided and dilated cases', () => {
    const x = tensor([[[1, 2, 3, 4, 5]]]);
    const w = tensor([[[1, 0, -1]]]);
    expectClose(conv1d(x, w), [[[-2, -2, -2]]]);
    expectClose(conv1d(x, w, null, { padding: 1 }), [[[-2, -2, -2, -2, 4]]]);
    expectClose(conv1d(x, w, null, { padding: 1, stride: 2 }), [[[-2, -2, 4]]]);
    expectClose(conv1d(x, w, null, { dilation: 2 }), [[[-4]]]);
    expectClose(conv1d(x, w, tensor([10]), { padding: 'valid' }), [[[8, 8, 8]]]);
  });

  it("conv1d: 'same' padding puts the odd pixel of an even kernel at the end", () => {
    const x = tensor([[[1, 2, 3, 4]]]);
    expectClose(conv1d(x, tensor([[[1, 1]]]), null, { padding: 'same' }), [[[3, 5, 7, 4]]]);
    expectClose(conv1d(x, tensor([[[1, 1]]]), null, { padding: 'same', dilation: 2 }), [[[2, 4, 6, 3]]]);
    expectClose(conv1d(x, tensor([[[1, 2, 1]]]), null, { padding: 'same' }), [[[4, 8, 12, 11]]]);
  });

  it('conv2d: hand-computed 2×2 kernel over a 3×3 image, with bias and two filters', () => {
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    const w = tensor([[[[1, 2], [3, 4]]], [[[0, 0], [0, 1]]]]);
    expectClose(conv2d(x, w, tensor([0, -5])), [[[[37, 47], [67, 77]], [[0, 1], [3, 4]]]]);
    // Unbatched [C, H, W] input gives an unbatched output.
    expectClose(conv2d(tensor([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]), w), [[[37, 47], [67, 77]], [[5, 6], [8, 9]]]);
  });

  it('conv2d: groups=2 keeps channels apart; depthwise matches per-channel convolutions', () => {
    const x = tensor([[[[1, 2], [3, 4]], [[10, 20], [30, 40]]]]);
    const w = tensor([[[[1, 1], [1, 1]]], [[[1, 0], [0, -1]]]]);
    expectClose(conv2d(x, w, null, { groups: 2 }), [[[[10]], [[-30]]]]);
    const xd = randomInput([2, 3, 5, 4], 11);
    const wd = randomInput([6, 1, 3, 2], 12);
    const opts = { stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 3, outSize: [3, 2] };
    expectClose(conv2d(xd, wd, null, { stride: opts.stride, padding: opts.padding, dilation: opts.dilation, groups: opts.groups }), naiveConv(xd, wd, null, { ...opts, padBegin: [1, 0], stride: [2, 1], dilation: [1, 2] }), { atol: 1e-12 });
  });

  it('conv2d against a direct loop: stride 2, padding, dilation 2, batch 3, odd sizes', () => {
    const cases = [
      { x: [3, 2, 7, 5], w: [4, 2, 3, 3], stride: [2, 2], pad: [1, 1], dil: [1, 1], groups: 1 },
      { x: [2, 3, 11, 7], w: [5, 3, 3, 2], stride: [1, 2], pad: [2, 0], dil: [2, 2], groups: 1 },
      { x: [1, 4, 5, 5], w: [6, 2, 2, 2], stride: [3, 1], pad: [1, 1], dil: [1, 3], groups: 2 },
    ];
    cases.forEach((c, i) => {
      const x = randomInput(c.x, 100 + i);
      const w = randomInput(c.w, 200 + i);
      const b = randomInput([c.w[0]!], 300 + i);
      const outSize = c.x.slice(2).map((s, d) => Math.floor((s + 2 * c.pad[d]! - c.dil[d]! * (c.w[2 + d]! - 1) - 1) / c.stride[d]!) + 1);
      const got = conv2d(x, w, b, { stride: c.stride, padding: c.pad, dilation: c.dil, groups: c.groups });
      expectClose(got, naiveConv(x, w, b, { stride: c.stride, padBegin: c.pad, dilation: c.dil, groups: c.groups, outSize }), { atol: 1e-12 });
    });
  });

  it('conv2d in float32 agrees with float64 and keeps its dtype', () => {
    const x = randomInput([2, 3, 6, 6], 5);
    const w = randomInput([4, 3, 3, 3], 6);
    const y32 = conv2d(x.float(), w.float(), null, { padding: 'same' });
    expect(y32.dtype).toBe('float32');
    expectClose(y32, conv2d(x, w, null, { padding: 'same' }), { atol: 1e-5 });
  });

  it("conv1d and conv3d against a direct loop ('same' with even kernels, prime sizes)", () => {
    const x1 = randomInput([2, 3, 13], 1);
    const w1 = randomInput([2, 3, 4], 2);
    expectClose(conv1d(x1, w1, null, { padding: 'same', dilation: 3 }),
      naiveConv(x1, w1, null, { stride: [1], padBegin: [4], dilation: [3], groups: 1, outSize: [13] }), { atol: 1e-12 });
    const x3 = randomInput([2, 2, 5, 3, 7], 3);
    const w3 = randomInput([4, 1, 2, 3, 2], 4);
    const b3 = randomInput([4], 5);
    expectClose(conv3d(x3, w3, b3, { stride: [2, 1, 3], padding: [1, 1, 0], groups: 2 }),
      naiveConv(x3, w3, b3, { stride: [2, 1, 3], padBegin: [1, 1, 0], dilation: [1, 1, 1], groups: 2, outSize: [3, 3, 2] }), { atol: 1e-12 });
    expectClose(conv3d(x3, w3, null, { padding: 'same', groups: 2 }),
      naiveConv(x3, w3, null, { stride: [1, 1, 1], padBegin: [0, 1, 0], dilation: [1, 1, 1], groups: 2, outSize: [5, 3, 7] }), { atol: 1e-12 });
  });

  it('1×1 convolutions (the pointwise path) match the direct loop', () => {
    const x = randomInput([2, 4, 3, 5], 21);
    const w = randomInput([6, 2, 1, 1], 22);
    expectClose(conv2d(x, w, null, { groups: 2 }), naiveConv(x, w, null, { stride: [1, 1], padBegin: [0, 0], dilation: [1, 1], groups: 2, outSize: [3, 5] }), { atol: 1e-12 });
    checkGrad((a, b) => conv2d(a, b, null, { groups: 2 }), [randomInput([2, 4, 2, 3], 23), randomInput([6, 2, 1, 1], 24)]);
  });

  it('convTranspose2d: hand-computed stride 1 and stride 2', () => {
    const x = tensor([[[[1, 2], [3, 4]]]]);
    const w = tensor([[[[1, 1], [1, 1]]]]);
    expectClose(convTranspose2d(x, w), [[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]]);
    expectClose(convTranspose2d(x, w, tensor([1]), { stride: 2 }), [[[[2, 2, 3, 3], [2, 2, 3, 3], [4, 4, 5, 5], [4, 4, 5, 5]]]]);
    expectClose(convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }), [[[[1, 2, 2], [3, 4, 4], [3, 4, 4]]]]);
  });

  it('convTranspose against a direct loop (stride, padding, outputPadding, dilation, groups; 1-d, 2-d, 3-d)', () => {
    const x = randomInput([2, 4, 3, 4], 31);
    const w = randomInput([4, 3, 3, 2], 32);
    const b = randomInput([6], 33);
    const y = convTranspose2d(x, w, b, { stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], dilation: [1, 2], groups: 2 });
    // (in−1)·s − 2p + d(k−1) + op + 1
    const outSize = [2 * 2 - 2 + 2 + 1 + 1, 3 * 3 - 0 + 2 + 2 + 1];
    const ref = naiveConvTranspose(x, w, { stride: [2, 3], padBegin: [1, 0], dilation: [1, 2], groups: 2, outSize });
    const bias = b.reshape([1, 6, 1, 1]);
    expectClose(y, ref.add(bias), { atol: 1e-12 });
    const x1 = randomInput([1, 2, 5], 34);
    const w1 = randomInput([2, 1, 3], 35);
    expectClose(convTranspose1d(x1, w1, null, { stride: 2, padding: 2 }),
      naiveConvTranspose(x1, w1, { stride: [2], padBegin: [2], dilation: [1], groups: 1, outSize: [7] }), { atol: 1e-12 });
    const x3 = randomInput([1, 2, 2, 3, 2], 36);
    const w3 = randomInput([2, 2, 2, 1, 3], 37);
    expectClose(convTranspose3d(x3, w3, null, { stride: [1, 2, 2] }),
      naiveConvTranspose(x3, w3, { stride: [1, 2, 2], padBegin: [0, 0, 0], dilation: [1, 1, 1], groups: 1, outSize: [3, 5, 5] }), { atol: 1e-12 });
  });

  it('convTranspose2d is the adjoint of conv2d: <conv(x), y> = <x, convT(y)>', () => {
    const x = randomInput([2, 4, 7, 6], 41);
    const w = randomInput([6, 2, 3, 3], 42);
    const opts = { stride: 2, padding: 1, dilation: 1, groups: 2 };
    const y = conv2d(x, w, null, opts);
    const r = randomInput([...y.shape], 43);
    const back = convTranspose2d(r, w, null, { ...opts, outputPadding: [0, 1] });
    expect(back.shape).toEqual(x.shape);
    const lhs = noGrad(() => y.mul(r).sum().item());
    const rhs = noGrad(() => x.mul(back).sum().item());
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10);
  });

  it('gradcheck: conv1d/2d/3d for input, weight and bias', () => {
    checkGrad((x, w, b) => conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 }), [randomInput([2, 2, 7], 1), randomInput([3, 2, 2], 2), randomInput([3], 3)]);
    checkGrad((x, w, b) => conv1d(x, w, b, { padding: 'same' }), [randomInput([1, 2, 5], 4), randomInput([2, 2, 4], 5), randomInput([2], 6)]);
    checkGrad((x, w, b) => conv2d(x, w, b, { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 }),
      [randomInput([2, 4, 5, 4], 7), randomInput([2, 2, 3, 2], 8), randomInput([2], 9)]);
    checkGrad((x, w) => conv2d(x, w, null, { groups: 3 }), [randomInput([1, 3, 4, 4], 10), randomInput([3, 1, 3, 3], 11)]);
    checkGrad((x, w, b) => conv3d(x, w, b, { stride: [1, 2, 1], padding: 1 }), [randomInput([1, 2, 3, 4, 3], 12), randomInput([2, 2, 2, 2, 2], 13), randomInput([2], 14)]);
    checkGrad((x, w, b) => conv2d(x, w, b), [randomInput([2, 3, 3], 15), randomInput([2, 2, 2, 2], 16), randomInput([2], 17)]);
  });

  it('gradcheck: convTranspose1d/2d/3d for input, weight and bias', () => {
    checkGrad((x, w, b) => convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
      [randomInput([2, 2, 3, 2], 21), randomInput([2, 2, 3, 3], 22), randomInput([4], 23)]);
    checkGrad((x, w, b) => convTranspose2d(x, w, b, { stride: [1, 2], dilation: [2, 1] }),
      [randomInput([1, 2, 2, 3], 24), randomInput([2, 1, 2, 2], 25), randomInput([1], 26)]);
    checkGrad((x, w, b) => convTranspose1d(x, w, b, { stride: 3, padding: 1 }), [randomInput([2, 2, 3], 27), randomInput([2, 3, 3], 28), randomInput([3], 29)]);
    checkGrad((x, w) => convTranspose3d(x, w, null, { stride: 2 }), [randomInput([1, 1, 2, 2, 2], 30), randomInput([1, 2, 2, 1, 2], 31)]);
  });

  it('gradients flow only to the arguments that require them, through float32 too', () => {
    const x = randomInput([1, 2, 4, 4], 51).float();
    const w = tensor(new Float32Array(2 * 2 * 3 * 3).fill(0.5), { shape: [2, 2, 3, 3] });
    const xs = x.detach().requiresGrad_();
    conv2d(xs, w, null, { padding: 1 }).sum().backward();
    expect(xs.grad!.dtype).toBe('float32');
    expect(w.grad).toBeNull();
    // d/dx Σ conv(x, 0.5) with padding 1 counts the taps that reach each pixel: 9 inside, fewer at edges.
    expectClose(xs.grad!.slice(1, 0, 1).slice(2, 0, 1).slice(3, 0, 1).reshape([1]), [2 * 0.5 * 4]);
    expectClose(xs.grad!.slice(2, 1, 2).slice(3, 1, 2).reshape([2]), [9, 9]);
  });

  it('records ONNX-ready attributes (explicit begin/end pads) on the trace', () => {
    const seen: TraceRecord[] = [];
    traceOps({ record: (r) => seen.push(r) }, () => {
      conv2d(randomInput([1, 2, 5, 6], 1), randomInput([4, 1, 2, 4], 2), randomInput([4], 3), { padding: 'same', groups: 2 });
      convTranspose1d(randomInput([1, 2, 3], 1), randomInput([2, 1, 3], 2), null, { stride: 2, padding: 1, outputPadding: 1 });
    });
    expect(seen.map((r) => [r.op, r.inputs.length, r.attrs])).toEqual([
      ['conv', 3, { kernelShape: [2, 4], strides: [1, 1], pads: [0, 1, 1, 2], dilations: [1, 1], group: 2 }],
      ['convTranspose', 2, { kernelShape: [3], strides: [2], pads: [1, 1], outputPadding: [1], dilations: [1], group: 1 }],
    ]);
  });

  it('a batch too large for one column buffer (processed in chunks) matches item-by-item results', () => {
    // 16·5·5 × 60·60 columns per item: the 4M-element budget fits two items per chunk.
    const x = randomInput([3, 16, 64, 64], 71);
    const w = randomInput([2, 16, 5, 5], 72);
    const y = conv2d(x, w);
    const r = randomInput([...y.shape], 73);
    y.mul(r).sum().backward();
    let wGrad = zeros([2, 16, 5, 5], { dtype: 'float64' });
    for (let n = 0; n < 3; n++) {
      const xn = x.detach().narrow(0, n, 1).requiresGrad_();
      const wn = w.detach().requiresGrad_();
      const yn = conv2d(xn, wn);
      expectClose(yn, y.detach().narrow(0, n, 1), { atol: 1e-12 });
      yn.mul(r.detach().narrow(0, n, 1)).sum().backward();
      expectClose(xn.grad!, x.grad!.narrow(0, n, 1), { atol: 1e-12 });
      wGrad = wGrad.add(wn.grad!);
    }
    expectClose(w.grad!, wGrad, { atol: 1e-10 });
  });

  it('an empty batch gives an empty output and gradients', () => {
    const x = zeros([0, 2, 4, 4], { dtype: 'float64' }).requiresGrad_();
    const w = randomInput([3, 2, 3, 3], 1);
    const y = conv2d(x, w, null, { padding: 1 });
    expect(y.shape).toEqual([0, 3, 4, 4]);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([0, 2, 4, 4]);
    expectClose(w.grad!, zeros([3, 2, 3, 3]));
  });

  it('errors name the op, the argument and the values', () => {
    const x = randomInput([1, 3, 5, 5], 1);
    expect(() => conv2d(x, randomInput([2, 4, 3, 3], 2))).toThrow('Kiln: conv2d: input has 3 channels but weight expects 4 (groups=1)');
    expect(() => conv2d(x, randomInput([2, 1, 3, 3], 2), null, { groups: 3 })).toThrow(/out_channels 2 .* not divisible by groups=3/);
    expect(() => conv2d(x.reshape([3, 25]), randomInput([2, 3, 3, 3], 2))).toThrow(/conv2d: expected a 4-d input/);
    expect(() => conv2d(x, randomInput([2, 3, 3], 2))).toThrow(/conv2d: weight must be 4-d/);
    expect(() => conv2d(x, randomInput([2, 3, 7, 3], 2))).toThrow(/conv2d: kernel of effective size \[7,3\] is larger than the padded input \[5,5\]/);
    expect(() => conv2d(x, randomInput([2, 3, 3, 3], 2), null, { stride: 0 })).toThrow(/conv2d: stride must be positive integers, got 0/);
    expect(() => conv2d(x, randomInput([2, 3, 3, 3], 2), null, { padding: -1 })).toThrow(/conv2d: padding must be non-negative/);
    expect(() => conv2d(x, randomInput([2, 3, 3, 3], 2), null, { padding: 'same', stride: 2 })).toThrow(/padding='same' needs stride 1/);
    expect(() => conv2d(x, randomInput([2, 3, 3, 3], 2), randomInput([3], 3))).toThrow(/conv2d: bias must have shape \[2\]/);
    expect(() => conv2d(x, randomInput([2, 3, 3, 3], 2), null, { stride: [1, 2, 3] })).toThrow(/stride must be a number or a list of 2/);
    expect(() => conv1d(tensor([[[1, 2]]], { dtype: 'int32' }), tensor([[[1]]], { dtype: 'int32' }))).toThrow(/conv1d: expected floating tensors/);
    expect(() => convTranspose2d(x, randomInput([2, 1, 3, 3], 2))).toThrow(/convTranspose2d: input has 3 channels but weight expects 2/);
    expect(() => convTranspose2d(x, randomInput([3, 1, 3, 3], 2), null, { stride: 2, outputPadding: 2 })).toThrow(/outputPadding \[2,2\] must be smaller than either stride/);
  });
});
