/**
 * YOLO target encoding, decoding, post-processing and loss terms on hand-built cases; float64
 * gradcheck; bad input.
 */
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '@kiln/tensor';
import { checkGrad, randomInput } from '@kiln/tensor/testing';
import { decodeYolo, encodeYoloTargets, postprocessYolo, yoloLoss, type YoloConfig } from './yolo.js';

const cfg: YoloConfig = { gridSize: 4, anchors: [[8, 8], [16, 10]], numClasses: 3, imageSize: 32 };
const f32 = (rows: number[][]): Tensor => tensor(rows, { dtype: 'float32' });
const i32 = (v: number[]): Tensor => tensor(v, { dtype: 'int32' });
const logit = (p: number) => Math.log(p / (1 - p));

/** The head output [N, B·(5 + C), S, S] that decodes exactly to the encoded targets (objectness σ⁻¹(0.99), class logit 6). */
function perfectOutput(target: Tensor, c: YoloConfig): Tensor {
  const [n, s, , b, d] = target.shape as number[];
  const t = target.dataSync(), out = new Float64Array(n! * b! * d! * s! * s!);
  for (let i = 0; i < n!; i++) for (let r = 0; r < s!; r++) for (let q = 0; q < s!; q++) for (let a = 0; a < b!; a++) {
    const o = (((i * s! + r) * s! + q) * b! + a) * d!, has = t[o + 4] === 1;
    const ch = (k: number) => (((i * b! + a) * d! + k) * s! + r) * s! + q;
    out[ch(0)] = has ? logit(t[o]!) : 0;
    out[ch(1)] = has ? logit(t[o + 1]!) : 0;
    out[ch(2)] = has ? t[o + 2]! : 0;
    out[ch(3)] = has ? t[o + 3]! : 0;
    out[ch(4)] = has ? logit(0.99) : logit(0.01);
    for (let k = 0; k < c.numClasses; k++) out[ch(5 + k)] = has && t[o + 5 + k] === 1 ? 6 : 0;
  }
  return tensor(out, { shape: [n!, b! * d!, s!, s!] });
}

describe('encodeYoloTargets', () => {
  it('assigns each object to its centre cell and best-IoU anchor, with offsets and log-size targets', () => {
    // centre (13, 21) → column 1, row 2; 15×9 box matches anchor 1 (16×10) best
    const { target, dropped } = encodeYoloTargets([f32([[5.5, 16.5, 20.5, 25.5]])], [i32([2])], cfg);
    expect(target.shape).toEqual([1, 4, 4, 2, 8]);
    expect(dropped).toBe(0);
    const t = target.dataSync(), o = (((0 * 4 + 2) * 4 + 1) * 2 + 1) * 8;
    expect(t[o]).toBeCloseTo(13 / 8 - 1, 6);
    expect(t[o + 1]).toBeCloseTo(21 / 8 - 2, 6);
    expect(t[o + 2]).toBeCloseTo(Math.log(15 / 16), 6);
    expect(t[o + 3]).toBeCloseTo(Math.log(9 / 10), 6);
    expect(Array.from(t.subarray(o + 4, o + 8))).toEqual([1, 0, 0, 1]);
    expect(Array.from(t).reduce((a, v) => a + v, 0)).toBeCloseTo(t[o]! + t[o + 1]! + t[o + 2]! + t[o + 3]! + 2, 5); // nothing else set
  });
  it('two objects in one cell take the two anchors; a third is dropped and counted', () => {
    const boxes = f32([[9, 9, 15, 15], [8.5, 8.5, 15.5, 14.5], [10, 9, 14, 15]]);
    const { target, dropped } = encodeYoloTargets([boxes], [i32([0, 1, 2])], cfg);
    expect(dropped).toBe(1);
    const t = target.dataSync(), cellBase = ((1 * 4 + 1) * 2) * 8;
    expect(t[cellBase + 4]).toBe(1);
    expect(t[cellBase + 8 + 4]).toBe(1);
    expect(t[cellBase + 5]).toBe(1); // first object (class 0) kept its best anchor 0
    expect(t[cellBase + 8 + 6]).toBe(1); // second (class 1) moved to anchor 1
  });
});

describe('decodeYolo and postprocessYolo', () => {
  it('decoding the output that matches the targets gives back the boxes, scores and classes; NMS removes duplicates', () => {
    const gtBoxes = [f32([[2, 3, 12, 11], [17, 15, 31, 30]]), f32([[4, 18, 20, 28]])];
    const gtLabels = [i32([1, 0]), i32([2])];
    const { target } = encodeYoloTargets(gtBoxes, gtLabels, cfg);
    const out = perfectOutput(target, cfg);
    const dec = decodeYolo(out, cfg);
    expect(dec.boxes.shape).toEqual([2, 32, 4]);
    const dets = postprocessYolo(dec, cfg, { scoreThreshold: 0.5 });
    const p = 0.99 * Math.exp(6) / (Math.exp(6) + 2);
    for (let i = 0; i < 2; i++) {
      const order = Array.from(dets[i]!.labels.dataSync());
      expect(order.length).toBe(gtLabels[i]!.shape[0]);
      const want = Array.from(gtLabels[i]!.dataSync());
      for (const [k, l] of order.entries()) {
        const j = want.indexOf(l);
        expect(Array.from(dets[i]!.boxes.dataSync().subarray(4 * k, 4 * k + 4)).map((v) => +v.toFixed(4))).toEqual(Array.from(gtBoxes[i]!.dataSync().subarray(4 * j, 4 * j + 4)));
        expect(dets[i]!.scores.dataSync()[k]).toBeCloseTo(p, 6);
      }
    }
    // a second, slightly shifted copy of image 1's box in another anchor is removed by NMS; a lower threshold keeps it
    const dup = out.clone();
    const ch = (a: number, k: number) => ((((1 * 2 + a) * 8 + k) * 4 + 2) * 4 + 1);
    const d = dup.dataSync();
    for (let k = 0; k < 8; k++) d[ch(0, k)] = d[ch(1, k)]!;
    d[ch(0, 2)] = d[ch(1, 2)]! + Math.log(16 / 8) - 0.05; // same size in anchor 0's units, 5% narrower: IoU 0.95
    d[ch(0, 3)] = d[ch(1, 3)]! + Math.log(10 / 8);
    expect(postprocessYolo(decodeYolo(dup, cfg), cfg, { scoreThreshold: 0.5 })[1]!.scores.shape[0]).toBe(1);
    expect(postprocessYolo(decodeYolo(dup, cfg), cfg, { scoreThreshold: 0.5, iouThreshold: 0.97 })[1]!.scores.shape[0]).toBe(2);
  });
});

describe('yoloLoss', () => {
  const { target } = encodeYoloTargets([f32([[2, 3, 12, 11]]), f32([[17, 15, 31, 30], [4, 18, 20, 28]])], [i32([1]), i32([0, 2])], cfg);
  it('is ~0 for the matching output (coord and class exactly, objectness by the 0.99/0.01 margin)', () => {
    const l = yoloLoss(perfectOutput(target, cfg), target, cfg);
    expect(l.coord.item()).toBeLessThan(1e-10);
    expect(l.obj.item()).toBeCloseTo(3 * -Math.log(0.99) / 2, 6);
    expect(l.noobj.item()).toBeCloseTo((64 - 3) * -Math.log(0.99) / 2, 6); // 2 images × 32 anchors, 3 responsible
    expect(l.cls.item()).toBeCloseTo(3 * -Math.log(Math.exp(6) / (Math.exp(6) + 2)) / 2, 6);
  });
  it('each term responds only to its own channels, and the weights combine them', () => {
    const base = perfectOutput(target, cfg), b0 = yoloLoss(base, target, cfg);
    const terms = (l: ReturnType<typeof yoloLoss>) => [l.coord.item(), l.obj.item(), l.noobj.item(), l.cls.item()];
    const bump = (a: number, k: number, r: number, q: number, by: number) => { const o = base.clone(), d = o.dataSync(), at = (((0 * 2 + a) * 8 + k) * 4 + r) * 4 + q; d[at] = d[at]! + by; return yoloLoss(o, target, cfg); };
    // image 0's object sits in cell (0, 0); its best anchor is 1 (10×8 box vs 8×8: IoU 0.8, vs 16×10: 0.5)
    const [ra, a] = [0, 0];
    const changed = (l: ReturnType<typeof yoloLoss>) => terms(l).map((v, i) => Math.abs(v - terms(b0)[i]!) > 1e-9);
    expect(changed(bump(a, 0, ra, 0, 0.5))).toEqual([true, false, false, false]); // tx of the responsible anchor
    expect(changed(bump(a, 4, ra, 0, -1))).toEqual([false, true, false, false]); // its objectness
    expect(changed(bump(a, 6, ra, 0, 1))).toEqual([false, false, false, true]); // its class logit
    expect(changed(bump(1, 4, 3, 3, 1))).toEqual([false, false, true, false]); // objectness of an empty anchor
    expect(changed(bump(1, 0, 3, 3, 1))).toEqual([false, false, false, false]); // box of an empty anchor: ignored
    expect(changed(bump(1, 6, 3, 3, 1))).toEqual([false, false, false, false]); // class of an empty anchor: ignored
    const w = yoloLoss(randomInput([2, 16, 4, 4], 9).detach(), target, cfg, { lambdaCoord: 2, lambdaNoObj: 0.25 });
    expect(w.total.item()).toBeCloseTo(2 * w.coord.item() + w.obj.item() + 0.25 * w.noobj.item() + w.cls.item(), 10);
  });
  it('gradcheck (float64) of the total loss and of the decoded boxes', () => {
    const t64 = target.double();
    checkGrad((o) => yoloLoss(o, t64, cfg).total, [randomInput([2, 16, 4, 4], 3)]);
    checkGrad((o) => decodeYolo(o, { ...cfg, gridSize: 2 }).boxes, [randomInput([1, 16, 2, 2], 4)]);
  });
  it('bad input: anchors or classes that do not match the head, wrong grid, wrong targets', () => {
    const out = randomInput([2, 16, 4, 4], 1).detach();
    expect(() => yoloLoss(out, target, { ...cfg, anchors: [[8, 8], [16, 10], [20, 20]] })).toThrow(/Kiln: yoloLoss: head output has 16 channels but 3 anchors × \(5 \+ 3 classes\) = 24: the anchors or classes do not match the head \(output \[2, 16, 4, 4\]\)/);
    expect(() => decodeYolo(out, { ...cfg, numClasses: 2 })).toThrow(/decodeYolo: head output has 16 channels but 2 anchors × \(5 \+ 2 classes\) = 14/);
    expect(() => decodeYolo(out, { ...cfg, gridSize: 8 })).toThrow(/decodeYolo: head output grid is 4×4 but config.gridSize is 8/);
    expect(() => yoloLoss(out, target.narrow(0, 0, 1), cfg)).toThrow(/yoloLoss: target must have shape \[2, 4, 4, 2, 8\] \(N, S, S, B, 5 \+ C\) to match the head output, got \[1, 4, 4, 2, 8\]/);
    expect(() => decodeYolo(out, { ...cfg, anchors: [[8, -1]] })).toThrow(/decodeYolo: config.anchors must be a non-empty array of \[width, height\] pairs of positive numbers/);
    expect(() => encodeYoloTargets([f32([[10, 10, 5, 12]])], [i32([0])], cfg)).toThrow(/encodeYoloTargets: boxes\[0\] row 0 must be xyxy with positive width and height, got \[10, 10, 5, 12\]/);
    expect(() => encodeYoloTargets([f32([[1, 1, 5, 5]])], [i32([3])], cfg)).toThrow(/encodeYoloTargets: labels\[0\]\[0\] = 3 is not a class id in \[0, 3\)/);
    expect(() => encodeYoloTargets([tensor([[1, 1, 5]])], [i32([0])], cfg)).toThrow(/encodeYoloTargets: boxes\[0\] must have shape \[N, 4\], got \[1, 3\]/);
    expect(() => yoloLoss(out, target, cfg, { lambdaNoobj: 1 } as never)).toThrow(/yoloLoss: unknown option 'lambdaNoobj'/);
  });
});
