/**
 * Anchor shapes from a dataset's boxes by k-means with the distance 1 − IoU (YOLOv2): boxes are
 * compared by width and height only, as if they shared a centre, so large boxes do not dominate
 * as they would under Euclidean distance.
 */
import { Generator, checkOptions, type Tensor } from '@kiln/tensor';
import { shapeIou } from './yolo.js';

export interface KMeansAnchorsOptions {
  /** Seed of the k-means++ initialisation (default 0). */
  seed?: number;
  /** Lloyd iterations at most (default 100; stops early when assignments settle). */
  iterations?: number;
}

function sizes(fn: string, boxes: Tensor): [number, number][] {
  if (!boxes || typeof boxes !== 'object' || boxes.ndim !== 2 || (boxes.shape[1] !== 2 && boxes.shape[1] !== 4)) {
    throw new Error(`Kiln: ${fn}: boxes must have shape [N, 4] (xyxy) or [N, 2] (width, height), got ${boxes && Array.isArray(boxes.shape) ? `[${boxes.shape.join(', ')}]` : typeof boxes}`);
  }
  const d = boxes.dataSync(), k = boxes.shape[1]!, out: [number, number][] = [];
  for (let i = 0; i < boxes.shape[0]!; i++) {
    const w = k === 4 ? d[4 * i + 2]! - d[4 * i]! : d[2 * i]!, h = k === 4 ? d[4 * i + 3]! - d[4 * i + 1]! : d[2 * i + 1]!;
    if (!(w > 0 && h > 0 && Number.isFinite(w) && Number.isFinite(h))) throw new Error(`Kiln: ${fn}: box ${i} must have positive finite width and height, got ${w}×${h}`);
    out.push([w, h]);
  }
  return out;
}

/** k anchor shapes [width, height] (sorted by area) clustering `boxes` ([N, 4] xyxy or [N, 2] sizes) under 1 − IoU. */
export function kMeansAnchors(boxes: Tensor, k: number, options: KMeansAnchorsOptions = {}): [number, number][] {
  const fn = 'kMeansAnchors';
  checkOptions(fn, options, { seed: 'nonnegint', iterations: 'posint' });
  const wh = sizes(fn, boxes);
  if (!Number.isInteger(k) || k < 1 || k > wh.length) throw new Error(`Kiln: ${fn}: k must be an integer in [1, ${wh.length}] (the number of boxes), got ${k}`);
  const g = new Generator(options.seed ?? 0);
  // k-means++: each next centre drawn with probability proportional to its squared distance
  const centres: [number, number][] = [wh[g.randint(0, wh.length)]!];
  while (centres.length < k) {
    const d2 = wh.map(([w, h]) => Math.min(...centres.map(([cw, ch]) => 1 - shapeIou(w, h, cw, ch))) ** 2);
    const total = d2.reduce((a, v) => a + v, 0);
    let r = g.random() * total, pick = 0;
    while (pick < wh.length - 1 && (r -= d2[pick]!) > 0) pick++;
    centres.push([...wh[total > 0 ? pick : g.randint(0, wh.length)]!]);
  }
  let assign = new Int32Array(wh.length).fill(-1);
  for (let it = 0; it < (options.iterations ?? 100); it++) {
    const next = Int32Array.from(wh, ([w, h]) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (shapeIou(w, h, ...centres[c]!) > shapeIou(w, h, ...centres[best]!)) best = c;
      return best;
    });
    if (next.every((v, i) => v === assign[i])) break;
    assign = next;
    for (let c = 0; c < k; c++) {
      const members = wh.filter((_, i) => assign[i] === c);
      if (members.length) centres[c] = [members.reduce((a, m) => a + m[0], 0) / members.length, members.reduce((a, m) => a + m[1], 0) / members.length];
    }
  }
  return centres.sort((a, b) => a[0] * a[1] - b[0] * b[1]);
}

/** Mean over boxes of the best IoU with any anchor (shapes aligned at the centre): how well anchors fit a dataset. */
export function anchorFit(boxes: Tensor, anchors: readonly (readonly [number, number])[]): number {
  const wh = sizes('anchorFit', boxes);
  return wh.reduce((a, [w, h]) => a + Math.max(...anchors.map(([aw, ah]) => shapeIou(w, h, aw, ah))), 0) / wh.length;
}
