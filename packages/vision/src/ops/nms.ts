/**
 * Greedy non-maximum suppression, as torchvision.ops.nms / batched_nms: visit boxes by
 * decreasing score, keep a box unless its IoU with an already kept box is > iouThreshold.
 * Defined edge cases: boxes with NaN scores are never kept; equal scores keep the lower index
 * first (a stable order); an empty input gives an empty int32 tensor. Not differentiable
 * (it returns indices), like torchvision's.
 */
import type { Tensor } from '@kiln/tensor';
import { checkXyxy, intTensor } from './boxes.js';

function checkScores(fn: string, boxes: Tensor, scores: unknown, iouThreshold: unknown): asserts scores is Tensor {
  const s = scores as Tensor;
  if (s === null || typeof s !== 'object' || !Array.isArray(s.shape)) throw new Error(`Kiln: ${fn}: scores must be a tensor, got ${typeof scores}`);
  if (s.ndim !== 1 || s.shape[0] !== boxes.shape[0]) {
    throw new Error(`Kiln: ${fn}: scores must have shape [${boxes.shape[0]}] to match boxes [${boxes.shape.join(', ')}], got [${s.shape.join(', ')}]`);
  }
  if (typeof iouThreshold !== 'number' || Number.isNaN(iouThreshold)) {
    throw new Error(`Kiln: ${fn}: iouThreshold must be a number, got ${String(iouThreshold)}`);
  }
}

/** Kept indices of a subset `order` (already sorted by decreasing score), greedy. */
function greedy(b: ArrayLike<number>, order: readonly number[], thr: number): number[] {
  const keep: number[] = [];
  const suppressed = new Uint8Array(order.length);
  for (let a = 0; a < order.length; a++) {
    if (suppressed[a]) continue;
    const i = order[a]!;
    keep.push(i);
    const ix1 = b[4 * i]!, iy1 = b[4 * i + 1]!, ix2 = b[4 * i + 2]!, iy2 = b[4 * i + 3]!;
    const areaI = (ix2 - ix1) * (iy2 - iy1);
    for (let c = a + 1; c < order.length; c++) {
      if (suppressed[c]) continue;
      const j = order[c]!;
      const w = Math.min(ix2, b[4 * j + 2]!) - Math.max(ix1, b[4 * j]!);
      const h = Math.min(iy2, b[4 * j + 3]!) - Math.max(iy1, b[4 * j + 1]!);
      const inter = Math.max(0, w) * Math.max(0, h);
      const union = areaI + (b[4 * j + 2]! - b[4 * j]!) * (b[4 * j + 3]! - b[4 * j + 1]!) - inter;
      const iou = union > 0 ? inter / union : 0;
      if (iou > thr) suppressed[c] = 1;
    }
  }
  return keep;
}

/** Indices by decreasing score (stable), NaN scores left out. */
function sortedByScore(s: ArrayLike<number>, subset?: readonly number[]): number[] {
  const idx = (subset ?? Array.from({ length: s.length }, (_, i) => i)).filter((i) => !Number.isNaN(s[i]!));
  return idx.sort((a, b) => s[b]! - s[a]! || a - b);
}

/**
 * Non-maximum suppression of xyxy `boxes` [N, 4] with `scores` [N]: int32 indices of the kept
 * boxes, by decreasing score.
 */
export function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Tensor {
  checkXyxy('nms', 'boxes', boxes);
  checkScores('nms', boxes, scores, iouThreshold);
  return intTensor(greedy(boxes.dataSync(), sortedByScore(scores.dataSync()), iouThreshold));
}

/**
 * Per-category NMS: boxes of different `idxs` (class ids [N], int32) never suppress each
 * other. int32 indices of the kept boxes, by decreasing score.
 */
export function batchedNms(boxes: Tensor, scores: Tensor, idxs: Tensor, iouThreshold: number): Tensor {
  checkXyxy('batchedNms', 'boxes', boxes);
  checkScores('batchedNms', boxes, scores, iouThreshold);
  if (idxs === null || typeof idxs !== 'object' || idxs.ndim !== 1 || idxs.shape[0] !== boxes.shape[0]) {
    throw new Error(`Kiln: batchedNms: idxs must have shape [${boxes.shape[0]}] to match boxes, got ${idxs && Array.isArray(idxs.shape) ? `[${idxs.shape.join(', ')}]` : typeof idxs}`);
  }
  const b = boxes.dataSync(), s = scores.dataSync(), cls = idxs.dataSync();
  const groups = new Map<number, number[]>();
  for (let i = 0; i < cls.length; i++) {
    const c = Number(cls[i]);
    if (!groups.has(c)) groups.set(c, []);
    groups.get(c)!.push(i);
  }
  const keep: number[] = [];
  for (const members of groups.values()) keep.push(...greedy(b, sortedByScore(s, members), iouThreshold));
  keep.sort((x, y) => s[y]! - s[x]! || x - y);
  return intTensor(keep);
}
