import { expect, it } from 'vitest';
import {
  adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d, adaptiveMaxPool1d, adaptiveMaxPool2d, adaptiveMaxPool3d, arange, avgPool1d, avgPool2d, avgPool3d, maxPool1d, maxPool2d, maxPool3d,
  tensor, Tensor, traceOps, type TraceRecord,
} from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

function* indices(shape: readonly number[]): Generator<number[]> {
  if (shape.some((d) => d === 0)) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    yield [...idx];
    let d = shape.length - 1;
    while (d >= 0 && ++idx[d]! === shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

interface Win {
  k: number[];
  s: number[];
  p: number[];
  d?: number[];
  ceil?: boolean;
}

/** Output size by the textbook formula, rounded up in ceil mode and pulled back when the last window starts past the input. */
function outLen(i: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = (i + 2 * p - d * (k - 1) - 1) / s;
  let o = (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
  if (ceil && (o - 1) * s >= i + p) o -= 1;
  return o;
}

/** Direct max / average pooling over [N, C, ...spatial], PyTorch semantics. */
function naivePool(x: Tensor, w: Win, kind: 'max' | 'avg', countIncludePad = true): { out: Tensor; idx: number[] } {
  const sp = x.shape.slice(2);
  const n = sp.length;
  const d = w.d ?? new Array<number>(n).fill(1);
  const os = sp.map((i, j) => outLen(i, w.k[j]!, w.s[j]!, w.p[j]!, d[j]!, w.ceil ?? false));
  const plane = sp.reduce((a, b) => a * b, 1);
  const data = x.dataSync();
  const out: number[] = [];
  const idx: number[] = [];
  for (const [nn, c, ...o] of indices([x.shape[0]!, x.shape[1]!, ...os])) {
    const base = (nn! * x.shape[1]! + c!) * plane;
    let best = -Infinity;
    let bestAt = -1;
    let sum = 0;
    let count = 0;
    for (const t of indices(w.k)) {
      const pos = t.map((tt, j) => o[j]! * w.s[j]! - w.p[j]! + tt * d[j]!);
      if (pos.some((q, j) => q < 0 || q >= sp[j]!)) continue;
      let flat = 0;
      pos.forEach((q, j) => (flat = flat * sp[j]! + q));
      const v = data[base + flat]!;
      if (v > best || bestAt < 0) {
        best = v;
        bestAt = flat;
      }
      sum += v;
      count++;
    }
    if (kind === 'max') {
      out.push(best);
      idx.push(bestAt);
    } else {
      let size = 1;
      o.forEach((oo, j) => {
        const start = oo * w.s[j]! - w.p[j]!;
        const end = Math.min(start + w.k[j]!, sp[j]! + w.p[j]!);
        size *= end - start;
      });
      out.push(sum / (countIncludePad ? size : count));
    }
  }
  return { out: tensor(Float64Array.from(out), { shape: [x.shape[0]!, x.shape[1]!, ...os] }), idx };
}

forEachBackend('pool', () => {
  it('maxPool2d: hand-computed 2×2 windows, with indices into each plane', () => {
    const x = arange(32).reshape([2, 1, 4, 4]).double();
    const [v, i] = maxPool2d(x, 2, { returnIndices: true });
    expectClose(v, [[[[5, 7], [13, 15]]], [[[21, 23], [29, 31]]]]);
    expect(i.dtype).toBe('int32');
    expect(i.toArray()).toEqual([[[[5, 7], [13, 15]]], [[[5, 7], [13, 15]]]]);
    expectClose(maxPool2d(x.neg(), 3, { stride: 1, padding: 1 }).slice(0, 0, 1), [[[[0, 0, -1, -2], [0, 0, -1, -2], [-4, -4, -5, -6], [-8, -8, -9, -10]]]]);
  });

  it('maxPool1d: ceil mode adds a partial window, but never one that starts in the right padding', () => {
    const x = tensor([[[1, 2, 3, 4, 5]]]);
    expectClose(maxPool1d(x, 2), [[[2, 4]]]);
    expectClose(maxPool1d(x, 2, { ceilMode: true }), [[[2, 4, 5]]]);
    // in=4, k=2, s=3, p=1: ceil((4+2-2)/3)+1 = 3 windows, but the 3rd would start at 6-1 = 5 ≥ 4.
    expectClose(maxPool1d(tensor([[[1, 2, 3, 4]]]), 2, { stride: 3, padding: 1, ceilMode: true }), [[[1, 4]]]);
    // in=6, k=1, s=4: ceil(5/4)+1 = 3, pulled back to 2.
    expectClose(maxPool1d(tensor([[[1, 2, 3, 4, 5, 6]]]), 1, { stride: 4, ceilMode: true }), [[[1, 5]]]);
    expectClose(maxPool1d(x, 2, { dilation: 2, stride: 1 }), [[[3, 4, 5]]]);
    // Unbatched input; the first maximum wins ties.
    const [v, i] = maxPool1d(tensor([[3, 3, 1, 7, 7]]), 2, { stride: 1, returnIndices: true });
    expectClose(v, [[3, 3, 7, 7]]);
    expect(i.toArray()).toEqual([[0, 1, 3, 3]]);
  });

  it('maxPool against a direct loop: 1-d, 2-d, 3-d with stride, padding, dilation, ceil mode', () => {
    const cases: Array<{ shape: number[]; w: Win }> = [
      { shape: [2, 3, 11], w: { k: [3], s: [2], p: [1], d: [2], ceil: true } },
      { shape: [2, 2, 7, 6], w: { k: [3, 2], s: [2, 2], p: [1, 1], ceil: true } },
      { shape: [1, 3, 5, 9], w: { k: [2, 3], s: [1, 3], p: [0, 1], d: [2, 1] } },
      { shape: [1, 2, 5, 4, 3], w: { k: [2, 2, 3], s: [2, 1, 2], p: [1, 0, 1], ceil: true } },
    ];
    const fns = [maxPool1d, maxPool2d, maxPool3d];
    cases.forEach(({ shape, w }, c) => {
      const x = randomInput(shape, 10 + c);
      const [v, i] = fns[shape.length - 3]!(x, w.k, { stride: w.s, padding: w.p, dilation: w.d ?? 1, ceilMode: w.ceil ?? false, returnIndices: true });
      const ref = naivePool(x, w, 'max');
      expectClose(v, ref.out, { atol: 0 });
      expect(Array.from(i.dataSync())).toEqual(ref.idx);
    });
  });

  it('avgPool2d: hand-computed padding with and without countIncludePad', () => {
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    const inc = avgPool2d(x, 2, { stride: 1, padding: 1 });
    expect(inc.shape).toEqual([1, 1, 4, 4]);
    expectClose(inc.slice(2, 0, 2).slice(3, 0, 2), [[[[0.25, 0.75], [1.25, 3]]]]);
    const exc = avgPool2d(x, 2, { stride: 1, padding: 1, countIncludePad: false });
    expectClose(exc.slice(2, 0, 2).slice(3, 0, 2), [[[[1, 1.5], [2.5, 3]]]]);
    // Ceil mode: the overhanging last window divides by what lies inside input + padding.
    const r = tensor([[[[1, 2, 3, 4, 5]]]]);
    expectClose(avgPool2d(r, [1, 2], { ceilMode: true }), [[[[1.5, 3.5, 5]]]]);
    expectClose(avgPool2d(r, [1, 2], { ceilMode: true, countIncludePad: false }), [[[[1.5, 3.5, 5]]]]);
    expectClose(avgPool1d(tensor([[[1, 2, 3, 4, 5]]]), 3, { stride: 2, padding: 1 }), [[[1, 3, 3]]]);
  });

  it('avgPool against a direct loop: 1-d, 2-d, 3-d, both countIncludePad settings, ceil mode', () => {
    const cases: Array<{ shape: number[]; w: Win }> = [
      { shape: [2, 2, 9], w: { k: [4], s: [3], p: [2], ceil: true } },
      { shape: [2, 3, 7, 5], w: { k: [3, 2], s: [2, 2], p: [1, 1], ceil: true } },
      { shape: [3, 1, 6, 7], w: { k: [2, 3], s: [2, 1], p: [0, 1] } },
      { shape: [1, 2, 5, 4, 3], w: { k: [3, 2, 2], s: [2, 2, 1], p: [1, 1, 0], ceil: true } },
    ];
    const fns = [avgPool1d, avgPool2d, avgPool3d];
    cases.forEach(({ shape, w }, c) => {
      const x = randomInput(shape, 20 + c);
      for (const countIncludePad of [true, false]) {
        const y = fns[shape.length - 3]!(x, w.k, { stride: w.s, padding: w.p, ceilMode: w.ceil ?? false, countIncludePad });
        expectClose(y, naivePool(x, w, 'avg', countIncludePad).out, { atol: 1e-12 });
      }
    });
  });

  it("adaptiveAvgPool: PyTorch's floor/ceil windows, uneven and even splits, null keeps a size", () => {
    const r = tensor([[[[1, 2, 3, 4, 5]]]]);
    // 5 → 3: windows [0,2), [1,4), [3,5).
    expectClose(adaptiveAvgPool2d(r, [1, 3]), [[[[1.5, 3, 4.5]]]]);
    expectClose(adaptiveAvgPool1d(tensor([[[1, 2, 3, 4, 5]]]), 2), [[[2, 4]]]);
    const x = randomInput([2, 3, 4, 6], 30);
    expectClose(adaptiveAvgPool2d(x, [2, 3]), avgPool2d(x, 2), { atol: 1e-12 });
    expectClose(adaptiveAvgPool2d(x, 1), x.mean([2, 3], true), { atol: 1e-12 });
    expectClose(adaptiveAvgPool2d(x, [null, 2]), avgPool2d(x, [1, 3]), { atol: 1e-12 });
    // Uneven in both dims, against windows computed here.
    const y = adaptiveAvgPool2d(x, [3, 4]);
    const ref: number[] = [];
    const d = x.dataSync();
    for (let p = 0; p < 6; p++) for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) {
      const [h0, h1] = [Math.floor((i * 4) / 3), Math.ceil(((i + 1) * 4) / 3)];
      const [w0, w1] = [Math.floor((j * 6) / 4), Math.ceil(((j + 1) * 6) / 4)];
      let s = 0;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += d[p * 24 + h * 6 + w]!;
      ref.push(s / ((h1 - h0) * (w1 - w0)));
    }
    expectClose(y, tensor(Float64Array.from(ref), { shape: [2, 3, 3, 4] }), { atol: 1e-12 });
    // Upsampling "pools" repeat values; unbatched input keeps its rank.
    expectClose(adaptiveAvgPool1d(tensor([[1, 2]]), 3), [[1, 1.5, 2]]);
    expect(adaptiveAvgPool3d(randomInput([2, 3, 5, 4], 31), [2, 2, 3]).shape).toEqual([2, 2, 2, 3]);
  });

  it('adaptiveMaxPool: hand case, ties resolved row-major, and a direct loop in 1-d, 2-d, 3-d', () => {
    const [v, i] = adaptiveMaxPool1d(tensor([[[1, 5, 2, 4, 3]]]), 3, { returnIndices: true });
    expectClose(v, [[[5, 5, 4]]]);
    expect(i.toArray()).toEqual([[[1, 1, 3]]]);
    const [tv, ti] = adaptiveMaxPool2d(tensor([[[[0, 1, 0], [1, 0, 1], [1, 1, 0]]]]), 1, { returnIndices: true });
    expectClose(tv, [[[[1]]]]);
    expect(ti.toArray()).toEqual([[[[1]]]]);
    const cases: Array<[number[], number[]]> = [[[2, 3, 7], [3]], [[2, 2, 5, 7], [3, 4]], [[1, 3, 4, 3], [4, 2]], [[1, 2, 5, 3, 4], [2, 2, 3]]];
    const fns = [adaptiveMaxPool1d, adaptiveMaxPool2d, adaptiveMaxPool3d];
    cases.forEach(([shape, out], c) => {
      const x = randomInput(shape, 60 + c);
      const sp = shape.slice(2);
      const d = x.dataSync();
      const plane = sp.reduce((a, b) => a * b, 1);
      const vals: number[] = [];
      const idx: number[] = [];
      for (const [n, ch, ...o] of indices([shape[0]!, shape[1]!, ...out])) {
        const win = o.map((oo, j) => [Math.floor((oo * sp[j]!) / out[j]!), Math.ceil(((oo + 1) * sp[j]!) / out[j]!)] as const);
        let best = -Infinity;
        let at = -1;
        for (const t of indices(win.map(([a, b]) => b - a))) {
          let flat = 0;
          t.forEach((tt, j) => (flat = flat * sp[j]! + win[j]![0] + tt));
          const val = d[(n! * shape[1]! + ch!) * plane + flat]!;
          if (val > best) {
            best = val;
            at = flat;
          }
        }
        vals.push(best);
        idx.push(at);
      }
      const [gv, gi] = fns[shape.length - 3]!(x, out, { returnIndices: true });
      expectClose(gv, tensor(Float64Array.from(vals), { shape: [shape[0]!, shape[1]!, ...out] }), { atol: 0 });
      expect(Array.from(gi.dataSync())).toEqual(idx);
    });
    expect(adaptiveMaxPool2d(randomInput([3, 4, 5], 1), [null, 2]).shape).toEqual([3, 4, 2]);
  });

  it('gradcheck: max, average and adaptive pooling', () => {
    checkGrad((x) => adaptiveMaxPool2d(x, [2, 3]), [randomInput([2, 2, 5, 4], 50)]);
    checkGrad((x) => adaptiveMaxPool1d(x, 3), [randomInput([1, 2, 7], 51)]);
    checkGrad((x) => adaptiveMaxPool3d(x, [2, 1, 2]), [randomInput([1, 1, 3, 2, 3], 52)]);
    checkGrad((x) => maxPool2d(x, [3, 2], { stride: [2, 1], padding: [1, 1], ceilMode: true }), [randomInput([2, 2, 5, 4], 40)]);
    checkGrad((x) => maxPool1d(x, 2, { dilation: 2, stride: 1 }), [randomInput([1, 2, 7], 41)]);
    checkGrad((x) => maxPool3d(x, 2, { stride: 1 }), [randomInput([1, 1, 3, 3, 3], 42)]);
    checkGrad((x) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [randomInput([2, 2, 6, 5], 43)]);
    checkGrad((x) => avgPool2d(x, [2, 3], { padding: [1, 0] }), [randomInput([1, 2, 4, 5], 44)]);
    checkGrad((x) => avgPool1d(x, 3, { stride: 2, ceilMode: true }), [randomInput([2, 1, 8], 45)]);
    checkGrad((x) => avgPool3d(x, 2, { padding: 1, countIncludePad: false }), [randomInput([1, 1, 3, 2, 3], 46)]);
    checkGrad((x) => adaptiveAvgPool2d(x, [3, 2]), [randomInput([2, 2, 5, 7], 47)]);
    checkGrad((x) => adaptiveAvgPool2d(x, [2, 2]), [randomInput([1, 2, 4, 6], 48)]);
    checkGrad((x) => adaptiveAvgPool1d(x, 4), [randomInput([2, 3], 49)]);
  });

  it('records ONNX-ready attributes on the trace', () => {
    const seen: TraceRecord[] = [];
    traceOps({ record: (r) => seen.push(r) }, () => {
      maxPool2d(randomInput([1, 1, 6, 6], 1), 3, { stride: 2, padding: 1, ceilMode: true });
      avgPool2d(randomInput([1, 1, 6, 6], 1), 2, { countIncludePad: false });
      adaptiveAvgPool2d(randomInput([1, 1, 5, 5], 1), 2);
    });
    const ops = seen.filter((r) => r.op !== 'identity').map((r) => [r.op, r.attrs]);
    expect(ops).toEqual([
      ['maxPool', { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], ceilMode: true }],
      ['avgPool', { kernelShape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false }],
      ['adaptiveAvgPool', { outputSize: [2, 2] }],
    ]);
  });

  it('errors name the op and the values at fault', () => {
    const x = randomInput([1, 2, 4, 4], 1);
    expect(() => maxPool2d(x, 2, { padding: 2 })).toThrow('Kiln: maxPool2d: padding [2,2] must be at most half the kernel size [2,2]');
    expect(() => maxPool2d(x, 5)).toThrow(/maxPool2d: kernel of effective size \[5,5\] is larger than the padded input \[4,4\]/);
    expect(() => maxPool2d(x, 2, { stride: 0 })).toThrow(/maxPool2d: stride must be positive integers/);
    expect(() => maxPool2d(randomInput([4], 1), 2)).toThrow(/maxPool2d: expected a 4-d input/);
    expect(() => avgPool2d(x, [2, 2, 2])).toThrow(/avgPool2d: kernelSize must be a number or a list of 2/);
    expect(() => adaptiveAvgPool2d(x, 0)).toThrow(/adaptiveAvgPool2d: outputSize must be positive integers/);
    expect(() => maxPool1d(tensor([[[1, 2]]], { dtype: 'int32' }), 2)).toThrow(/maxPool1d: expected floating tensors/);
  });
});
