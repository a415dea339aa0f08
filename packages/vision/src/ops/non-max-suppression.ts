/**
 * ONNX's NonMaxSuppression (opset 11+ semantics) in TypeScript, so that a graph holding it can be
 * traced by the ONNX exporter (it reports itself as the op `nonMaxSuppression`) and so that Kiln
 * gives, eagerly, the indices ONNX Runtime gives. Unlike `batchedNms` it works on a batch of
 * images and per class, with the score threshold strict (score > threshold), and it computes IoU
 * in float32 as ONNX Runtime's CPU kernel does, so borderline overlaps resolve the same way.
 */
import { checkOptions, emit, tensor, type Tensor } from '@kiln/tensor';

export interface NonMaxSuppressionOptions {
  /** Most boxes kept per image and class (ONNX `max_output_boxes_per_class`); default: all. */
  maxOutputBoxesPerClass?: number;
  /** A box is suppressed when its IoU with a kept box of its class is > this, in [0, 1] (default 0). */
  iouThreshold?: number;
  /** Only boxes with score > this (strictly) are candidates; default: every box with a score that is not NaN. */
  scoreThreshold?: number;
  /** 0: boxes are two opposite corners (any order, so xyxy and yxyx both work); 1: [cx, cy, w, h] (default 0). */
  centerPointBox?: 0 | 1;
}

const f32 = Math.fround;

/** Sorted [lo, hi] of two coordinates. */
const span = (a: number, b: number): [number, number] => (a >= b ? [b, a] : [a, b]);

/** The [x1, x2, y1, y2] extents of box `i` in `d` (offset `o`), float32 like the inputs. */
function extents(d: ArrayLike<number>, o: number, centre: boolean): [number, number, number, number] {
  if (centre) {
    const hw = f32(d[o + 2]! / 2), hh = f32(d[o + 3]! / 2);
    return [f32(d[o]! - hw), f32(d[o]! + hw), f32(d[o + 1]! - hh), f32(d[o + 1]! + hh)];
  }
  const [x1, x2] = span(d[o + 1]!, d[o + 3]!), [y1, y2] = span(d[o]!, d[o + 2]!);
  return [x1, x2, y1, y2];
}

/** True when two boxes overlap by IoU > thr; boxes without positive area never suppress. */
function suppresses(a: readonly number[], b: readonly number[], thr: number): boolean {
  const ix1 = Math.max(a[0]!, b[0]!), ix2 = Math.min(a[1]!, b[1]!);
  if (ix2 <= ix1) return false;
  const iy1 = Math.max(a[2]!, b[2]!), iy2 = Math.min(a[3]!, b[3]!);
  if (iy2 <= iy1) return false;
  const inter = f32(f32(ix2 - ix1) * f32(iy2 - iy1));
  const areaA = f32(f32(a[1]! - a[0]!) * f32(a[3]! - a[2]!)), areaB = f32(f32(b[1]! - b[0]!) * f32(b[3]! - b[2]!));
  const union = f32(f32(areaA + areaB) - inter);
  if (!(inter > 0) || !(areaA > 0) || !(areaB > 0) || !(union > 0)) return false;
  return f32(inter / union) > thr;
}

/**
 * Greedy NMS per image and class of `boxes` [B, N, 4] with `scores` [B, C, N]: int32
 * `selected_indices` [K, 3] of (image, class, box) rows, ordered by image, then class, then
 * decreasing score (equal scores: lower box index first — ONNX leaves that order open). NaN scores
 * are never selected.
 */
export function nonMaxSuppression(boxes: Tensor, scores: Tensor, options: NonMaxSuppressionOptions = {}): Tensor {
  checkOptions('nonMaxSuppression', options, {
    maxOutputBoxesPerClass: 'nonnegint', iouThreshold: 'prob', scoreThreshold: 'number', centerPointBox: (v) => (v === 0 || v === 1 ? null : '0 or 1'),
  });
  if (boxes?.ndim !== 3 || boxes.shape[2] !== 4) throw new Error(`Kiln: nonMaxSuppression: boxes must be [B, N, 4], got ${boxes?.shape ? `[${boxes.shape.join(', ')}]` : typeof boxes}`);
  const [nb, n] = boxes.shape as [number, number, number];
  if (scores?.ndim !== 3 || scores.shape[0] !== nb || scores.shape[2] !== n) {
    throw new Error(`Kiln: nonMaxSuppression: scores must be [B, C, N] = [${nb}, C, ${n}] to match boxes [${boxes.shape.join(', ')}], got ${scores?.shape ? `[${scores.shape.join(', ')}]` : typeof scores}`);
  }
  const maxPerClass = options.maxOutputBoxesPerClass ?? n, iouThr = options.iouThreshold ?? 0, scoreThr = options.scoreThreshold;
  const nc = scores.shape[1]!, centre = options.centerPointBox === 1;
  const bd = boxes.dataSync(), sd = scores.dataSync();
  // ONNX Runtime compares float32 values; thresholds reach it as float32 initializers.
  const iouT = f32(iouThr), scoreT = scoreThr === undefined ? -Infinity : f32(scoreThr);
  const rows: number[] = [];
  for (let img = 0; img < nb; img++) {
    const ext = Array.from({ length: n }, (_, i) => extents(bd, (img * n + i) * 4, centre));
    for (let c = 0; c < nc; c++) {
      const s = (i: number) => f32(sd[(img * nc + c) * n + i]!);
      const order = Array.from({ length: n }, (_, i) => i).filter((i) => s(i) > scoreT || (scoreThr === undefined && !Number.isNaN(s(i))));
      order.sort((p, q) => s(q) - s(p) || p - q);
      const kept: number[] = [];
      for (const i of order) {
        if (kept.length >= maxPerClass) break;
        if (kept.some((k) => suppresses(ext[k]!, ext[i]!, iouT))) continue;
        kept.push(i);
        rows.push(img, c, i);
      }
    }
  }
  const out = tensor(Int32Array.from(rows), { dtype: 'int32', shape: [rows.length / 3, 3] });
  emit('nonMaxSuppression', [boxes, scores], [out], {
    maxOutputBoxesPerClass: maxPerClass, iouThreshold: iouThr, scoreThreshold: scoreThr ?? null, centerPointBox: centre ? 1 : 0,
  });
  return out;
}
