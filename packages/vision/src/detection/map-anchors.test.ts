/** meanAveragePrecision on hand-computed cases; kMeansAnchors on clustered box shapes. */
import { describe, expect, it } from 'vitest';
import { Generator, tensor, type Tensor } from '@kiln/tensor';
import { anchorFit, kMeansAnchors } from './anchors.js';
import { meanAveragePrecision } from './map.js';

const boxes = (rows: number[][]): Tensor => tensor(rows.length ? rows : new Float32Array(0), { dtype: 'float32', shape: [rows.length, 4] });
const i32 = (v: number[]): Tensor => tensor(Int32Array.from(v), { dtype: 'int32', shape: [v.length] });
const f = (v: number[]): Tensor => tensor(Float32Array.from(v), { shape: [v.length] });

describe('meanAveragePrecision', () => {
  it('perfect detections: every AP is 1', () => {
    const gt = [{ boxes: boxes([[0, 0, 10, 10], [20, 20, 30, 35]]), labels: i32([0, 1]) }];
    const r = meanAveragePrecision([{ ...gt[0]!, scores: f([0.9, 0.8]) }], gt);
    expect(r).toEqual({ map50: 1, map: 1, map50Coco: 1, apPerClass: [1, 1] });
  });

  it('TP, FP, TP over two ground-truth boxes: VOC 0.5·1 + 0.5·2/3, COCO (51·1 + 50·2/3)/101', () => {
    const gt = [{ boxes: boxes([[0, 0, 10, 10]]), labels: i32([0]) }, { boxes: boxes([[50, 50, 60, 60]]), labels: i32([0]) }];
    const pred = [
      { boxes: boxes([[0, 0, 10, 10], [30, 30, 40, 40]]), scores: f([0.9, 0.8]), labels: i32([0, 0]) }, // TP, FP
      { boxes: boxes([[50, 50, 60, 60]]), scores: f([0.7]), labels: i32([0]) }, // TP
    ];
    const r = meanAveragePrecision(pred, gt);
    expect(r.map50).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
    expect(r.map50Coco).toBeCloseTo((51 + 50 * (2 / 3)) / 101, 12);
    expect(r.map).toBeCloseTo((51 + 50 * (2 / 3)) / 101, 12); // IoU 1: the same at every threshold
  });

  it('COCO averages over IoU thresholds: a box of IoU 0.72 counts at 0.50 … 0.70 only (5 of 10)', () => {
    const gt = [{ boxes: boxes([[0, 0, 10, 10]]), labels: i32([3]) }];
    const r = meanAveragePrecision([{ boxes: boxes([[0, 0, 10, 7.2]]), scores: f([0.5]), labels: i32([3]) }], gt);
    expect(r.map50).toBe(1);
    expect(r.map).toBeCloseTo(0.5, 12);
    expect(r.apPerClass.slice(0, 3).every(Number.isNaN)).toBe(true); // classes without ground truth
  });

  it('a missed class scores 0 and halves the mean; a duplicate detection is a false positive; wrong class does not match', () => {
    const gt = [{ boxes: boxes([[0, 0, 10, 10], [20, 0, 30, 10]]), labels: i32([0, 1]) }];
    const pred = [{ boxes: boxes([[0, 0, 10, 10], [0, 0, 10, 10], [20, 0, 30, 10]]), scores: f([0.9, 0.8, 0.7]), labels: i32([0, 0, 2]) }];
    const r = meanAveragePrecision(pred, gt);
    expect(r.apPerClass[0]).toBe(1); // duplicate after the TP: precision drops only beyond full recall
    expect(r.apPerClass[1]).toBe(0);
    expect(r.map50).toBe(0.5);
  });

  it('VOC matches against the most-overlapping ground truth even when taken; COCO takes the next free one', () => {
    // two overlapping ground-truth boxes; both detections overlap A most, the second also overlaps B at IoU 0.6
    const gt = [{ boxes: boxes([[0, 0, 10, 10], [3, 0, 13, 10]]), labels: i32([0, 0]) }];
    const pred = [{ boxes: boxes([[0, 0, 10, 10], [1, 0, 11, 10]]), scores: f([0.9, 0.8]), labels: i32([0, 0]) }];
    const r = meanAveragePrecision(pred, gt);
    expect(r.map50).toBeCloseTo(0.5, 12); // VOC: TP then FP (its best match A is taken): recall 0.5 at precision 1
    expect(r.map50Coco).toBe(1); // COCO: the second takes B (IoU 8/12 ≥ 0.5)
  });

  it('bad input names the function and the entry', () => {
    const gt = [{ boxes: boxes([[0, 0, 1, 1]]), labels: i32([0]) }];
    expect(() => meanAveragePrecision([], gt)).toThrow(/Kiln: meanAveragePrecision: predictions and targets must be arrays with one entry per image of the same length, got 0 and 1/);
    expect(() => meanAveragePrecision([{ boxes: boxes([[0, 0, 1, 1]]), scores: f([1, 2]), labels: i32([0]) }], gt)).toThrow(/meanAveragePrecision: predictions\[0\].scores must have shape \[1\] to match its boxes, got \[2\]/);
    expect(() => meanAveragePrecision([{ boxes: tensor([[0, 0, 1]]), scores: f([1]), labels: i32([0]) }], gt)).toThrow(/meanAveragePrecision: predictions\[0\].boxes must have shape \[N, 4\], got \[1, 3\]/);
  });
});

describe('kMeansAnchors (1 − IoU distance)', () => {
  it('recovers three box-shape clusters and fits the data better than the best single shape', () => {
    const g = new Generator(5), centres = [[6, 6], [20, 8], [12, 30]], rows: number[][] = [];
    for (let i = 0; i < 300; i++) {
      const [w, h] = centres[i % 3]!;
      const x = 50 * g.random(), y = 50 * g.random();
      rows.push([x, y, x + w! * (1 + 0.1 * g.normal()), y + h! * (1 + 0.1 * g.normal())]);
    }
    const anchors = kMeansAnchors(boxes(rows), 3, { seed: 1 });
    expect(anchors.length).toBe(3);
    for (const [k, [w, h]] of [[6, 6], [20, 8], [12, 30]].entries()) {
      expect(Math.abs(anchors[k]![0] - w!) / w!).toBeLessThan(0.05);
      expect(Math.abs(anchors[k]![1] - h!) / h!).toBeLessThan(0.05);
    }
    const fit3 = anchorFit(boxes(rows), anchors), fit1 = anchorFit(boxes(rows), kMeansAnchors(boxes(rows), 1));
    expect(fit3).toBeGreaterThan(0.85);
    expect(fit3).toBeGreaterThan(fit1 + 0.2);
    // [N, 2] sizes give the same anchors as the boxes
    const fromSizes = kMeansAnchors(tensor(rows.map((r) => [r[2]! - r[0]!, r[3]! - r[1]!]), { dtype: 'float32' }), 3, { seed: 1 });
    fromSizes.forEach((a, k) => { expect(a[0]).toBeCloseTo(anchors[k]![0], 4); expect(a[1]).toBeCloseTo(anchors[k]![1], 4); });
  });
  it('bad input', () => {
    expect(() => kMeansAnchors(tensor([[1, 2, 3]]), 1)).toThrow(/Kiln: kMeansAnchors: boxes must have shape \[N, 4\] \(xyxy\) or \[N, 2\] \(width, height\), got \[1, 3\]/);
    expect(() => kMeansAnchors(boxes([[0, 0, 1, 1]]), 2)).toThrow(/kMeansAnchors: k must be an integer in \[1, 1\] \(the number of boxes\), got 2/);
    expect(() => kMeansAnchors(boxes([[0, 0, 0, 1]]), 1)).toThrow(/kMeansAnchors: box 0 must have positive finite width and height, got 0×1/);
  });
});
