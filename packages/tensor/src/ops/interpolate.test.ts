import { expect, it } from 'vitest';
import { interpolate, tensor, Tensor, traceOps, upsample, type TraceRecord } from '../index.js';
import { checkGrad, expectClose, forEachBackend, randomInput } from '../test-utils/index.js';

/** PyTorch's linear source index and weights for one output position (written out directly). */
function linearSource(o: number, inLen: number, outLen: number, align: boolean, sf?: number): [number, number, number, number] {
  if (outLen === inLen && !align) return [o, o, 1, 0];
  let src: number;
  if (align) src = outLen > 1 ? ((inLen - 1) / (outLen - 1)) * o : 0;
  else {
    const scale = sf !== undefined ? 1 / sf : inLen / outLen;
    src = scale * (o + 0.5) - 0.5;
    if (src < 0) src = 0;
  }
  const i0 = Math.min(Math.floor(src), inLen - 1);
  const i1 = i0 < inLen - 1 ? i0 + 1 : i0;
  const l1 = Math.min(Math.max(src - i0, 0), 1);
  return [i0, i1, 1 - l1, l1];
}

/** Bilinear interpolation of [N, C, H, W], one output pixel at a time from its four neighbours. */
function naiveBilinear(x: Tensor, oh: number, ow: number, align: boolean, sf?: [number, number]): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const d = x.dataSync();
  const out = new Float64Array(N * C * oh * ow);
  let j = 0;
  for (let p = 0; p < N * C; p++) {
    for (let i = 0; i < oh; i++) {
      const [h0, h1, a0, a1] = linearSource(i, H, oh, align, sf?.[0]);
      for (let k = 0; k < ow; k++) {
        const [w0, w1, b0, b1] = linearSource(k, W, ow, align, sf?.[1]);
        const at = (h: number, w: number) => d[p * H * W + h * W + w]!;
        out[j++] = a0 * (b0 * at(h0, w0) + b1 * at(h0, w1)) + a1 * (b0 * at(h1, w0) + b1 * at(h1, w1));
      }
    }
  }
  return tensor(out, { shape: [N, C, oh, ow] });
}

forEachBackend('interpolate', () => {
  it('nearest 1-d: floor(o·in/out), clamped, with the ×2 and same-size special cases', () => {
    const x = tensor([[[1, 2, 3]]]);
    expectClose(interpolate(x, { size: 5 }), [[[1, 1, 2, 2, 3]]]);
    expectClose(interpolate(x, { size: 7 }), [[[1, 1, 1, 2, 2, 3, 3]]]);
    expectClose(interpolate(x, { scaleFactor: 2 }), [[[1, 1, 2, 2, 3, 3]]]);
    expectClose(interpolate(x, { size: 3 }), [[[1, 2, 3]]]);
    expectClose(interpolate(tensor([[[1, 2, 3, 4, 5]]]), { size: 2 }), [[[1, 3]]]);
    // A given scale factor is used as such (1/1.7), unless asked to recompute it from the sizes (4/6).
    const y = tensor([[[1, 2, 3, 4]]]);
    expectClose(interpolate(y, { scaleFactor: 1.7 }), [[[1, 1, 2, 2, 3, 3]]]);
    expectClose(interpolate(y, { scaleFactor: 1.7, recomputeScaleFactor: true }), [[[1, 1, 2, 3, 3, 4]]]);
  });

  it('nearest 2-d and 3-d pick the same source index per dim', () => {
    const x = tensor([[[[1, 2], [3, 4]]]]);
    expectClose(upsample(x, { scaleFactor: 2, mode: 'nearest' }), [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]);
    expectClose(interpolate(x, { size: [3, 1] }), [[[[1], [1], [3]]]]);
    const v = randomInput([1, 2, 3, 2, 4], 1);
    const out = interpolate(v, { size: [5, 3, 2] });
    const src = (o: number, i: number, n: number) => Math.min(Math.floor((o * i) / n), i - 1);
    const d = v.dataSync();
    const ref: number[] = [];
    for (let c = 0; c < 2; c++) for (let a = 0; a < 5; a++) for (let b = 0; b < 3; b++) for (let e = 0; e < 2; e++) {
      ref.push(d[c * 24 + src(a, 3, 5) * 8 + src(b, 2, 3) * 4 + src(e, 4, 2)]!);
    }
    expectClose(out, tensor(Float64Array.from(ref), { shape: [1, 2, 5, 3, 2] }), { atol: 0 });
  });

  it('bilinear: hand-computed 2×2 → 4×4 (half-pixel, clamped at 0) and 2×2 → 3×3 (alignCorners)', () => {
    const x = tensor([[[[1, 2], [3, 4]]]]);
    expectClose(interpolate(x, { size: [4, 4], mode: 'bilinear' }), [[[
      [1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3, 3.25, 3.75, 4],
    ]]]);
    expectClose(interpolate(x, { size: 3, mode: 'bilinear', alignCorners: true }), [[[[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]]]]);
    expectClose(interpolate(tensor([[[1, 2, 4]]]), { size: 2, mode: 'linear' }), [[[1.25, 3.5]]]);
    expectClose(interpolate(tensor([[[1, 2, 4]]]), { size: 1, mode: 'linear', alignCorners: true }), [[[1]]]);
  });

  it('bilinear against a four-neighbour loop: up, down, odd sizes, scale factors, batch > 1', () => {
    const x = randomInput([2, 3, 5, 7], 2);
    for (const align of [false, true]) {
      for (const [oh, ow] of [[9, 4], [3, 11], [1, 7], [5, 2]] as const) {
        expectClose(interpolate(x, { size: [oh, ow], mode: 'bilinear', alignCorners: align }), naiveBilinear(x, oh, ow, align), { atol: 1e-12 });
      }
    }
    expectClose(interpolate(x, { scaleFactor: [1.5, 0.6], mode: 'bilinear' }), naiveBilinear(x, 7, 4, false, [1.5, 0.6]), { atol: 1e-12 });
    expectClose(interpolate(x.float(), { scaleFactor: 2, mode: 'bilinear' }), naiveBilinear(x, 10, 14, false, [2, 2]), { atol: 1e-5 });
  });

  it('trilinear equals linear applied along each dim', () => {
    const x = randomInput([1, 2, 3, 4, 2], 3);
    const y = interpolate(x, { size: [5, 2, 3], mode: 'trilinear', alignCorners: true });
    const d = x.dataSync();
    const ref: number[] = [];
    for (let c = 0; c < 2; c++) for (let a = 0; a < 5; a++) for (let b = 0; b < 2; b++) for (let e = 0; e < 3; e++) {
      const [a0, a1, la0, la1] = linearSource(a, 3, 5, true);
      const [b0, b1, lb0, lb1] = linearSource(b, 4, 2, true);
      const [e0, e1, le0, le1] = linearSource(e, 2, 3, true);
      let s = 0;
      for (const [ia, wa] of [[a0, la0], [a1, la1]]) for (const [ib, wb] of [[b0, lb0], [b1, lb1]]) for (const [ie, we] of [[e0, le0], [e1, le1]]) {
        s += wa! * wb! * we! * d[c * 24 + ia! * 8 + ib! * 2 + ie!]!;
      }
      ref.push(s);
    }
    expectClose(y, tensor(Float64Array.from(ref), { shape: [1, 2, 5, 2, 3] }), { atol: 1e-12 });
  });

  it('gradcheck: nearest and (bi/tri)linear, with and without alignCorners', () => {
    checkGrad((x) => interpolate(x, { size: 5 }), [randomInput([2, 2, 3], 10)]);
    checkGrad((x) => interpolate(x, { size: [3, 5] }), [randomInput([1, 2, 4, 3], 11)]);
    checkGrad((x) => interpolate(x, { scaleFactor: 2 }), [randomInput([1, 1, 2, 3], 12)]);
    checkGrad((x) => interpolate(x, { size: [3, 2, 3] }), [randomInput([1, 1, 2, 3, 2], 13)]);
    checkGrad((x) => interpolate(x, { size: 7, mode: 'linear' }), [randomInput([2, 1, 4], 14)]);
    checkGrad((x) => interpolate(x, { size: [5, 2], mode: 'bilinear' }), [randomInput([2, 2, 3, 4], 15)]);
    checkGrad((x) => interpolate(x, { size: [4, 7], mode: 'bilinear', alignCorners: true }), [randomInput([1, 2, 3, 3], 16)]);
    checkGrad((x) => interpolate(x, { scaleFactor: [1.5, 2], mode: 'bilinear' }), [randomInput([1, 1, 3, 2], 17)]);
    checkGrad((x) => interpolate(x, { size: [3, 3, 2], mode: 'trilinear' }), [randomInput([1, 1, 2, 2, 3], 18)]);
    checkGrad((x) => interpolate(x, { size: [2, 3] }), [randomInput([1, 1, 2, 3], 19)]);
  });

  it('records the resize attributes on the trace', () => {
    const seen: TraceRecord[] = [];
    traceOps({ record: (r) => seen.push(r) }, () => {
      interpolate(randomInput([1, 1, 2, 3], 1), { scaleFactor: 2, mode: 'bilinear', alignCorners: true });
      interpolate(randomInput([1, 1, 4], 1), { size: 2 });
    });
    expect(seen.map((r) => [r.op, r.attrs])).toEqual([
      ['interpolate', { mode: 'linear', alignCorners: true, outputSize: [4, 6], scales: [2, 2] }],
      ['interpolate', { mode: 'nearest', alignCorners: false, outputSize: [2], scales: [null] }],
    ]);
  });

  it('errors name the op and the values at fault', () => {
    const x = randomInput([1, 1, 3, 3], 1);
    expect(() => interpolate(x, { size: 4, mode: 'linear' })).toThrow("Kiln: interpolate: mode 'linear' needs a 3-d input, got shape [1,1,3,3]");
    expect(() => interpolate(x, { size: 4, alignCorners: true })).toThrow(/alignCorners only applies to the linear modes/);
    expect(() => interpolate(x, {})).toThrow(/give exactly one of size and scaleFactor/);
    expect(() => interpolate(x, { size: 4, scaleFactor: 2 })).toThrow(/give exactly one of size and scaleFactor/);
    expect(() => interpolate(x, { scaleFactor: 0.2 })).toThrow(/scaleFactor \[0.2,0.2\] gives an empty output \[0,0\]/);
    expect(() => interpolate(x, { size: [2, 2, 2] })).toThrow(/size must be a number or a list of 2/);
    expect(() => interpolate(randomInput([3, 3], 1), { size: 2 })).toThrow(/expected a 3-d, 4-d or 5-d input/);
    expect(() => interpolate(x, { size: 2, mode: 'bicubic' as never })).toThrow(/unknown mode 'bicubic'/);
  });
});
