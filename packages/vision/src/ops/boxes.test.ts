/**
 * Box utilities against torchvision 0.14 (fixtures/boxes/boxes.json from
 * scripts/gen_box_fixtures.py), float64 gradchecks, defined degenerate cases and bad input.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '@kiln/tensor';
import { checkGrad, expectClose, randomInput } from '@kiln/tensor/testing';
import { batchedNms, boxArea, boxConvert, boxIou, clipBoxesToImage, generalizedBoxIou, nms, removeSmallBoxes, type BoxFormat } from './index.js';

const fx = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/boxes/boxes.json', import.meta.url)), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
// torchvision's NaN (0/0 IoU of two zero-area boxes) is stored as null
const nanify = (v: unknown): unknown => (Array.isArray(v) ? v.map(nanify) : v === null ? Number.NaN : v);
const f64 = (k: string): Tensor => tensor(nanify(fx[k]) as never, { dtype: 'float64' });
/** torchvision's values with its NaNs replaced by Kiln's defined value, and how many there were. */
function replaceNaN(t: Tensor, value: number): [Tensor, number] {
  const d = Float64Array.from(t.dataSync(), (v) => (Number.isNaN(v) ? value : v));
  return [tensor(d, { shape: t.shape }), t.dataSync().filter(Number.isNaN).length];
}
const ints = (t: Tensor): number[] => Array.from(t.dataSync(), Number);
const b1 = f64('boxes1'), b2 = f64('boxes2');

describe('box ops match torchvision 0.14', () => {
  it('boxArea, boxIou, generalizedBoxIou (20×15, with zero-area and duplicate boxes)', () => {
    expectClose(boxArea(b1), f64('box_area'), { atol: 1e-12, rtol: 1e-12 });
    // the one NaN is boxes1[3] (zero width) against boxes2[6] (zero height), disjoint: empty union,
    // so IoU 0 in Kiln, and gIoU 0 − (C − 0)/C = −1 (the value for any two disjoint boxes)
    for (const [name, fn, defined] of [['box_iou', boxIou, 0], ['generalized_box_iou', generalizedBoxIou, -1]] as const) {
      const [ref, nans] = replaceNaN(f64(name), defined);
      expect(nans, name).toBe(1);
      expect(fn(b1, b2).dataSync()[3 * 15 + 6], name).toBe(defined);
      expectClose(fn(b1, b2), ref, { atol: 1e-12, rtol: 1e-12 });
    }
    expect(boxIou(b1, b2).dataSync()[5]).toBe(1); // boxes2[5] duplicates boxes1[0]
  });

  it('gradients of boxIou and generalizedBoxIou equal torch autograd (regular rows)', () => {
    const w = f64('grad_weights');
    for (const [name, fn] of [['box_iou', boxIou], ['generalized_box_iou', generalizedBoxIou]] as const) {
      const g1 = b1.clone().requiresGrad_(), g2 = b2.clone().requiresGrad_();
      fn(g1, g2).mul(w).sum().backward();
      // rows with ties in min/max (zero-area box boxes1[3], boxes2[6]; the duplicate pair boxes1[0]/boxes2[5]) are skipped
      const skip1 = new Set([0, 3]), skip2 = new Set([5, 6]);
      for (const [g, ref, skip] of [[g1.grad!, f64(`${name}_grad1`), skip1], [g2.grad!, f64(`${name}_grad2`), skip2]] as const) {
        const a = g.dataSync(), r = ref.dataSync();
        let worst = 0;
        for (let i = 0; i < a.length; i++) if (!skip.has(Math.floor(i / 4))) worst = Math.max(worst, Math.abs(a[i]! - r[i]!));
        expect(worst, name).toBeLessThan(1e-12);
      }
    }
  });

  it('boxConvert between all formats', () => {
    const fmts: BoxFormat[] = ['xyxy', 'xywh', 'cxcywh'];
    for (const a of fmts) {
      const src = boxConvert(b1, 'xyxy', a);
      expectClose(src, f64(`convert_xyxy_${a}`), { atol: 1e-12, rtol: 1e-12 });
      for (const b of fmts) expectClose(boxConvert(src, a, b), f64(`convert_${a}_${b}`), { atol: 1e-12, rtol: 1e-12 });
    }
    // any leading shape: [2, 10, 4]
    expectClose(boxConvert(b1.reshape(2, 10, 4), 'xyxy', 'cxcywh').reshape(20, 4), f64('convert_xyxy_cxcywh'), { atol: 1e-12 });
  });

  it('nms and batchedNms keep exactly torchvision\'s indices at thresholds 0 … 1 (300 clustered boxes, 4 classes)', () => {
    const boxes = f64('nms_boxes'), scores = f64('nms_scores'), classes = tensor(fx.nms_classes, { dtype: 'int32' });
    for (const thr of ['0.0', '0.3', '0.5', '0.7', '1.0']) {
      const keep = nms(boxes, scores, Number(thr));
      expect(keep.dtype).toBe('int32');
      expect(ints(keep), `nms ${thr}`).toEqual(fx[`nms_${thr}`]);
      expect(ints(batchedNms(boxes, scores, classes, Number(thr))), `batchedNms ${thr}`).toEqual(fx[`batched_nms_${thr}`]);
    }
    // float32 inputs give the same answer
    expect(ints(nms(boxes.float(), scores.float(), 0.5))).toEqual(fx['nms_0.5']);
  });

  it('clipBoxesToImage and removeSmallBoxes', () => {
    expectClose(clipBoxesToImage(f64('clip_boxes'), fx.clip_size), f64('clip_result'), { atol: 1e-12 });
    expect(ints(removeSmallBoxes(b1, fx.small_min_size))).toEqual(fx.small_result);
  });
});

describe('box ops: gradients (float64 gradcheck)', () => {
  // well-separated corners so no min/max tie sits within the finite-difference step
  const boxes = (seed: number, n: number): Tensor => {
    const r = randomInput([n, 4], seed, 0, 1).detach().dataSync();
    const out = new Float64Array(n * 4);
    for (let i = 0; i < n; i++) {
      const x = 10 * r[4 * i]!, y = 10 * r[4 * i + 1]!;
      out.set([x, y, x + 2 + 6 * r[4 * i + 2]!, y + 2 + 6 * r[4 * i + 3]!], 4 * i);
    }
    return tensor(out, { shape: [n, 4], requiresGrad: true });
  };
  it('boxIou', () => checkGrad((a, b) => boxIou(a, b), [boxes(1, 4), boxes(2, 3)]));
  it('generalizedBoxIou (overlapping and disjoint pairs)', () => checkGrad((a, b) => generalizedBoxIou(a, b), [boxes(3, 4), boxes(4, 3)]));
  it('boxConvert cxcywh → xyxy → xywh, boxArea, clipBoxesToImage', () => {
    checkGrad((b) => boxConvert(boxConvert(b, 'cxcywh', 'xyxy'), 'xyxy', 'xywh'), [randomInput([3, 4], 5)]);
    checkGrad((b) => boxArea(b), [boxes(6, 3)]);
    checkGrad((b) => clipBoxesToImage(b, [7.3, 8.1]), [boxes(7, 5)]);
  });
});

describe('box ops: degenerate boxes (defined behaviour)', () => {
  const z = tensor([[5, 5, 5, 9], [1, 1, 1, 1]], { dtype: 'float64' }); // zero width; a point
  const r = tensor([[0, 0, 10, 10]], { dtype: 'float64' });
  it('zero-area boxes: area 0, IoU 0 with anything, 0 (not NaN) when the union is empty', () => {
    expect(Array.from(boxArea(z).dataSync())).toEqual([0, 0]);
    expect(Array.from(boxIou(z, r).dataSync())).toEqual([0, 0]);
    expect(Array.from(boxIou(z, z).dataSync())).toEqual([0, 0, 0, 0]);
    const g = generalizedBoxIou(z, z).dataSync();
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
    expect(g[0]).toBe(0); // identical degenerate boxes: empty hull, no penalty
    // the gradient through an empty union is finite (0) too
    const p = z.clone().requiresGrad_();
    boxIou(p, p.detach()).sum().backward();
    expect(Array.from(p.grad!.dataSync()).every(Number.isFinite)).toBe(true);
  });
  it('nms: NaN scores are never kept, ties keep the lower index first, empty input → empty', () => {
    const boxes = tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]], { dtype: 'float64' });
    expect(ints(nms(boxes, tensor([0.9, Number.NaN, 0.5, 0.9], { dtype: 'float64' }), 0.5))).toEqual([0, 2]);
    expect(ints(nms(boxes, tensor([0.5, 0.5, 0.5, 0.5], { dtype: 'float64' }), 0.5))).toEqual([0, 2]);
    expect(ints(nms(boxes, tensor([0.5, 0.5, 0.5, 0.5], { dtype: 'float64' }), 1))).toEqual([0, 1, 2, 3]);
    const empty = nms(tensor(new Float64Array(0), { shape: [0, 4] }), tensor(new Float64Array(0), { shape: [0] }), 0.5);
    expect(empty.shape).toEqual([0]);
    expect(ints(batchedNms(boxes, tensor([0.9, 0.8, 0.5, 0.7], { dtype: 'float64' }), tensor([0, 1, 0, 0], { dtype: 'int32' }), 0.5))).toEqual([0, 1, 2]);
  });
});

describe('box ops: bad input', () => {
  const ok = tensor([[0, 0, 1, 1]]);
  it('wrong shapes, dtypes and coordinate order name the function, argument and values', () => {
    expect(() => boxIou(tensor([[0, 0, 1]]), ok)).toThrow(/Kiln: boxIou: boxes1 must have shape \[N, 4\], got \[1, 3\]/);
    expect(() => boxIou(ok, tensor([0, 0, 1, 1]))).toThrow(/boxIou: boxes2 must have shape \[N, 4\], got \[4\]/);
    expect(() => boxArea(tensor([[0, 0, 1, 1]], { dtype: 'int32' }))).toThrow(/boxArea: boxes must be float32 or float64, got int32/);
    expect(() => generalizedBoxIou(ok, tensor([[0, 0, 1, 1], [5, 5, 2, 8]]))).toThrow(/generalizedBoxIou: boxes2 row 1 is not in xyxy order \(x1 <= x2, y1 <= y2\): \[5, 5, 2, 8\]/);
    expect(() => nms(tensor([[0, Number.NaN, 1, 1]]), tensor([1]), 0.5)).toThrow(/nms: boxes row 0 has non-finite coordinates/);
    expect(() => nms(ok, tensor([1, 2]), 0.5)).toThrow(/nms: scores must have shape \[1\] to match boxes \[1, 4\], got \[2\]/);
    expect(() => batchedNms(ok, tensor([1]), tensor([0, 1], { dtype: 'int32' }), 0.5)).toThrow(/batchedNms: idxs must have shape \[1\]/);
    expect(() => boxConvert(ok, 'xyxy', 'yxyx' as BoxFormat)).toThrow(/boxConvert: outFmt must be one of xyxy, xywh, cxcywh, got "yxyx"/);
    expect(() => clipBoxesToImage(ok, [5] as never)).toThrow(/clipBoxesToImage: size must be \[height, width\]/);
    expect(() => removeSmallBoxes(ok, Number.NaN)).toThrow(/removeSmallBoxes: minSize must be a finite number/);
  });
});
