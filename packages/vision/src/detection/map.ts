/**
 * Mean average precision for detection, as PASCAL VOC (2010+) and COCO report it.
 * Per class and IoU threshold t: detections of that class, from all images, are visited by
 * decreasing score; one is a true positive when it matches a ground-truth box of its class in its
 * image with IoU >= t that no higher-scoring detection has matched, else a false positive. The
 * precision/recall curve gives AP:
 * - VOC: a detection is compared with the ground-truth box it overlaps most; AP is the area
 *   under the curve with precision made monotone (all-point interpolation), at t = 0.5.
 * - COCO: a detection takes the best-overlapping still-unmatched ground-truth box; AP is the
 *   mean of the monotone precision at 101 recall points 0, 0.01, …, 1, averaged over
 *   t = 0.50, 0.55, …, 0.95.
 * Classes are those with at least one ground-truth box (others are left out of the means, as
 * both benchmarks do); a class with ground truth but no detections has AP 0.
 */
import type { Tensor } from '@kiln/tensor';
import { checkBoxShape } from '../ops/boxes.js';

export interface ScoredBoxes { boxes: Tensor; scores: Tensor; labels: Tensor }
export interface GroundTruth { boxes: Tensor; labels: Tensor }

export interface MapResult {
  /** VOC AP at IoU 0.5 (all-point interpolation, VOC matching), mean over classes. */
  map50: number;
  /** COCO AP averaged over IoU 0.50:0.05:0.95 (101-point interpolation), mean over classes. */
  map: number;
  /** COCO-style AP at IoU 0.5 (101 points), mean over classes. */
  map50Coco: number;
  /** Per class id: VOC AP at 0.5, NaN for classes without ground truth. */
  apPerClass: number[];
}

type Rows = { boxes: ArrayLike<number>; labels: ArrayLike<number>; scores?: ArrayLike<number> };

function iou(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const w = Math.min(a[4 * i + 2]!, b[4 * j + 2]!) - Math.max(a[4 * i]!, b[4 * j]!);
  const h = Math.min(a[4 * i + 3]!, b[4 * j + 3]!) - Math.max(a[4 * i + 1]!, b[4 * j + 1]!);
  const inter = Math.max(0, w) * Math.max(0, h);
  const union = (a[4 * i + 2]! - a[4 * i]!) * (a[4 * i + 3]! - a[4 * i + 1]!) + (b[4 * j + 2]! - b[4 * j]!) * (b[4 * j + 3]! - b[4 * j + 1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/** Precision and recall after each detection of class `cls`, visited by decreasing score. */
function curve(preds: Rows[], gts: Rows[], cls: number, t: number, coco: boolean, numGt: number): [number[], number[]] {
  const dets: [number, number, number][] = []; // score, image, row
  preds.forEach((p, img) => { for (let k = 0; k < p.labels.length; k++) if (Number(p.labels[k]) === cls) dets.push([p.scores![k]!, img, k]); });
  dets.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  const used = gts.map((g) => new Uint8Array(g.labels.length));
  const prec: number[] = [], rec: number[] = [];
  let tp = 0;
  dets.forEach(([, img, k], n) => {
    const g = gts[img]!;
    let best = -1, bestIou = -1;
    for (let j = 0; j < g.labels.length; j++) {
      if (Number(g.labels[j]) !== cls || (coco && used[img]![j])) continue;
      const v = iou(preds[img]!.boxes, k, g.boxes, j);
      if (v > bestIou) { bestIou = v; best = j; }
    }
    if (best >= 0 && bestIou >= t && !used[img]![best]) { used[img]![best] = 1; tp++; }
    prec.push(tp / (n + 1));
    rec.push(tp / numGt);
  });
  return [prec, rec];
}

function apAllPoint(prec: number[], rec: number[]): number {
  const p = [0, ...prec, 0], r = [0, ...rec, 1];
  for (let i = p.length - 2; i >= 0; i--) p[i] = Math.max(p[i]!, p[i + 1]!);
  let ap = 0;
  for (let i = 1; i < r.length; i++) if (r[i] !== r[i - 1]) ap += (r[i]! - r[i - 1]!) * p[i]!;
  return ap;
}

function ap101(prec: number[], rec: number[]): number {
  const p = [...prec];
  for (let i = p.length - 2; i >= 0; i--) p[i] = Math.max(p[i]!, p[i + 1]!);
  let sum = 0, k = 0;
  for (let i = 0; i <= 100; i++) {
    const r = i / 100;
    while (k < rec.length && rec[k]! < r - 1e-12) k++;
    sum += k < rec.length ? p[k]! : 0;
  }
  return sum / 101;
}

function rows(fn: string, what: string, i: number, x: ScoredBoxes | GroundTruth, scored: boolean): Rows {
  if (!x || typeof x !== 'object') throw new Error(`Kiln: ${fn}: ${what}[${i}] must be an object with boxes and labels, got ${String(x)}`);
  checkBoxShape(fn, `${what}[${i}].boxes`, x.boxes);
  const n = x.boxes.shape[0]!;
  if (!x.labels || x.labels.ndim !== 1 || x.labels.shape[0] !== n) throw new Error(`Kiln: ${fn}: ${what}[${i}].labels must have shape [${n}] to match its boxes, got ${x.labels ? `[${x.labels.shape.join(', ')}]` : 'nothing'}`);
  const s = scored ? (x as ScoredBoxes).scores : undefined;
  if (scored && (!s || s.ndim !== 1 || s.shape[0] !== n)) throw new Error(`Kiln: ${fn}: ${what}[${i}].scores must have shape [${n}] to match its boxes, got ${s ? `[${s.shape.join(', ')}]` : 'nothing'}`);
  return { boxes: x.boxes.dataSync(), labels: x.labels.dataSync(), scores: s?.dataSync() };
}

/** VOC and COCO mean average precision of per-image detections against per-image ground truth. */
export function meanAveragePrecision(predictions: readonly ScoredBoxes[], targets: readonly GroundTruth[]): MapResult {
  const fn = 'meanAveragePrecision';
  if (!Array.isArray(predictions) || !Array.isArray(targets) || predictions.length !== targets.length) {
    throw new Error(`Kiln: ${fn}: predictions and targets must be arrays with one entry per image of the same length, got ${Array.isArray(predictions) ? predictions.length : typeof predictions} and ${Array.isArray(targets) ? targets.length : typeof targets}`);
  }
  const preds = predictions.map((p, i) => rows(fn, 'predictions', i, p, true));
  const gts = targets.map((t, i) => rows(fn, 'targets', i, t, false));
  const counts = new Map<number, number>();
  for (const g of gts) for (const l of Array.from(g.labels, Number)) counts.set(l, (counts.get(l) ?? 0) + 1);
  const classes = [...counts.keys()].sort((a, b) => a - b);
  const apPerClass: number[] = Array.from({ length: classes.length ? classes[classes.length - 1]! + 1 : 0 }, () => Number.NaN);
  let voc = 0, coco = 0, coco50 = 0;
  for (const c of classes) {
    const ng = counts.get(c)!;
    const [p, r] = curve(preds, gts, c, 0.5, false, ng);
    apPerClass[c] = apAllPoint(p, r);
    voc += apPerClass[c]!;
    let sum = 0;
    for (let k = 0; k < 10; k++) {
      const [pc, rc] = curve(preds, gts, c, (50 + 5 * k) / 100, true, ng);
      const a = ap101(pc, rc);
      sum += a;
      if (k === 0) coco50 += a;
    }
    coco += sum / 10;
  }
  const m = classes.length || Number.NaN;
  return { map50: voc / m, map: coco / m, map50Coco: coco50 / m, apPerClass };
}
