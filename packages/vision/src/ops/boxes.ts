/**
 * Box utilities with torchvision.ops' names and semantics (camelCase). Boxes are [N, 4] float
 * tensors; `xyxy` is (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2. Everything here is built from
 * differentiable tensor ops, so IoU-style losses backpropagate into predicted boxes.
 *
 * Degenerate boxes, defined (torchvision leaves some of these undefined):
 * - zero width or height: area 0, IoU 0 with any box; IoU of two boxes whose union is empty
 *   (both zero-area) is 0, not torchvision's 0/0 = NaN; gIoU likewise uses 0 for that IoU and
 *   treats an empty enclosing box as giving no penalty.
 * - inverted corners (x2 < x1 or y2 < y1) and non-finite coordinates are errors naming the
 *   function, the argument and the row (torchvision computes negative areas in box_iou and
 *   asserts in generalized_box_iou).
 */
import { stack, tensor, type Tensor, where } from '@kiln/tensor';

export type BoxFormat = 'xyxy' | 'xywh' | 'cxcywh';
const FORMATS: readonly BoxFormat[] = ['xyxy', 'xywh', 'cxcywh'];

/** @internal Throws unless `boxes` is a floating tensor of shape [N, 4] (or [..., 4] when `anyRank`). */
export function checkBoxShape(fn: string, arg: string, boxes: unknown, anyRank = false): asserts boxes is Tensor {
  const t = boxes as Tensor;
  if (t === null || typeof t !== 'object' || !Array.isArray(t.shape)) {
    throw new Error(`Kiln: ${fn}: ${arg} must be a tensor of boxes, got ${typeof boxes}`);
  }
  const ok = anyRank ? t.ndim >= 1 && t.shape[t.ndim - 1] === 4 : t.ndim === 2 && t.shape[1] === 4;
  if (!ok) throw new Error(`Kiln: ${fn}: ${arg} must have shape ${anyRank ? '[..., 4]' : '[N, 4]'}, got [${t.shape.join(', ')}]`);
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new Error(`Kiln: ${fn}: ${arg} must be float32 or float64, got ${t.dtype}`);
}

/** @internal Shape check plus finite coordinates and x1 <= x2, y1 <= y2 on every row. */
export function checkXyxy(fn: string, arg: string, boxes: unknown): asserts boxes is Tensor {
  checkBoxShape(fn, arg, boxes);
  const d = boxes.dataSync();
  for (let i = 0; i < d.length; i += 4) {
    const row = [d[i]!, d[i + 1]!, d[i + 2]!, d[i + 3]!];
    if (!row.every(Number.isFinite)) throw new Error(`Kiln: ${fn}: ${arg} row ${i / 4} has non-finite coordinates [${row.join(', ')}]`);
    if (row[2]! < row[0]! || row[3]! < row[1]!) {
      throw new Error(`Kiln: ${fn}: ${arg} row ${i / 4} is not in xyxy order (x1 <= x2, y1 <= y2): [${row.join(', ')}]`);
    }
  }
}

function columns(boxes: Tensor): [Tensor, Tensor, Tensor, Tensor] {
  const d = boxes.ndim - 1;
  return [boxes.narrow(d, 0, 1).squeeze(d), boxes.narrow(d, 1, 1).squeeze(d), boxes.narrow(d, 2, 1).squeeze(d), boxes.narrow(d, 3, 1).squeeze(d)];
}

/** Converts boxes [..., 4] between 'xyxy', 'xywh' (corner + size) and 'cxcywh' (centre + size). */
export function boxConvert(boxes: Tensor, inFmt: BoxFormat, outFmt: BoxFormat): Tensor {
  checkBoxShape('boxConvert', 'boxes', boxes, true);
  for (const [name, f] of [['inFmt', inFmt], ['outFmt', outFmt]] as const) {
    if (!FORMATS.includes(f)) throw new Error(`Kiln: boxConvert: ${name} must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(f)}`);
  }
  if (inFmt === outFmt) return boxes;
  const [a, b, c, e] = columns(boxes);
  let x1: Tensor, y1: Tensor, x2: Tensor, y2: Tensor;
  if (inFmt === 'xyxy') [x1, y1, x2, y2] = [a, b, c, e];
  else if (inFmt === 'xywh') [x1, y1, x2, y2] = [a, b, a.add(c), b.add(e)];
  else [x1, y1, x2, y2] = [a.sub(c.mul(0.5)), b.sub(e.mul(0.5)), a.add(c.mul(0.5)), b.add(e.mul(0.5))];
  const last = boxes.ndim - 1;
  if (outFmt === 'xyxy') return stack([x1, y1, x2, y2], last);
  const w = x2.sub(x1), h = y2.sub(y1);
  if (outFmt === 'xywh') return stack([x1, y1, w, h], last);
  return stack([x1.add(x2).mul(0.5), y1.add(y2).mul(0.5), w, h], last);
}

/** Areas [N] of xyxy boxes [N, 4]. */
export function boxArea(boxes: Tensor): Tensor {
  checkXyxy('boxArea', 'boxes', boxes);
  return areaOf(boxes);
}

function areaOf(boxes: Tensor): Tensor {
  const [x1, y1, x2, y2] = columns(boxes);
  return x2.sub(x1).mul(y2.sub(y1));
}

/** Pairwise intersection [N, M] and union [N, M] of xyxy boxes [N, 4] and [M, 4]. */
function interUnion(b1: Tensor, b2: Tensor): [Tensor, Tensor] {
  const [ax1, ay1, ax2, ay2] = columns(b1).map((c) => c.unsqueeze(1)) as [Tensor, Tensor, Tensor, Tensor];
  const [bx1, by1, bx2, by2] = columns(b2).map((c) => c.unsqueeze(0)) as [Tensor, Tensor, Tensor, Tensor];
  const w = ax2.minimum(bx2).sub(ax1.maximum(bx1)).clamp(0);
  const h = ay2.minimum(by2).sub(ay1.maximum(by1)).clamp(0);
  const inter = w.mul(h);
  const union = areaOf(b1).unsqueeze(1).add(areaOf(b2).unsqueeze(0)).sub(inter);
  return [inter, union];
}

/** a / b where b > 0, else 0 (b is never 0 in the division, so no NaN reaches the gradient). */
function safeDiv(a: Tensor, b: Tensor): Tensor {
  const pos = b.gt(0);
  return where(pos, a.div(where(pos, b, 1)), 0);
}

function checkPair(fn: string, b1: Tensor, b2: Tensor): void {
  checkXyxy(fn, 'boxes1', b1);
  checkXyxy(fn, 'boxes2', b2);
  if (b1.dtype !== b2.dtype) throw new Error(`Kiln: ${fn}: boxes1 and boxes2 must share a dtype, got ${b1.dtype} and ${b2.dtype}`);
}

/** Pairwise intersection-over-union [N, M] of xyxy boxes [N, 4] and [M, 4] (0 where the union is empty). */
export function boxIou(boxes1: Tensor, boxes2: Tensor): Tensor {
  checkPair('boxIou', boxes1, boxes2);
  const [inter, union] = interUnion(boxes1, boxes2);
  return safeDiv(inter, union);
}

/**
 * Pairwise generalised IoU [N, M] (Rezatofighi et al. 2019): IoU − (C − U) / C with C the area
 * of the smallest box enclosing both. In [−1, 1]; 1 − gIoU is a loss with gradients even for
 * disjoint boxes.
 */
export function generalizedBoxIou(boxes1: Tensor, boxes2: Tensor): Tensor {
  checkPair('generalizedBoxIou', boxes1, boxes2);
  const [inter, union] = interUnion(boxes1, boxes2);
  const iou = safeDiv(inter, union);
  const [ax1, ay1, ax2, ay2] = columns(boxes1).map((c) => c.unsqueeze(1)) as [Tensor, Tensor, Tensor, Tensor];
  const [bx1, by1, bx2, by2] = columns(boxes2).map((c) => c.unsqueeze(0)) as [Tensor, Tensor, Tensor, Tensor];
  const hull = ax2.maximum(bx2).sub(ax1.minimum(bx1)).mul(ay2.maximum(by2).sub(ay1.minimum(by1)));
  return iou.sub(safeDiv(hull.sub(union), hull));
}

/** Clamps xyxy boxes [N, 4] to an image of `size` = [height, width]. */
export function clipBoxesToImage(boxes: Tensor, size: readonly [number, number]): Tensor {
  checkXyxy('clipBoxesToImage', 'boxes', boxes);
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isFinite(v) && v >= 0)) {
    throw new Error(`Kiln: clipBoxesToImage: size must be [height, width] of non-negative numbers, got ${JSON.stringify(size)}`);
  }
  const [h, w] = size;
  const [x1, y1, x2, y2] = columns(boxes);
  return stack([x1.clamp(0, w), y1.clamp(0, h), x2.clamp(0, w), y2.clamp(0, h)], 1);
}

/** Indices (int32, ascending) of the xyxy boxes whose width and height are both >= minSize. */
export function removeSmallBoxes(boxes: Tensor, minSize: number): Tensor {
  checkXyxy('removeSmallBoxes', 'boxes', boxes);
  if (typeof minSize !== 'number' || !Number.isFinite(minSize)) {
    throw new Error(`Kiln: removeSmallBoxes: minSize must be a finite number, got ${String(minSize)}`);
  }
  const d = boxes.dataSync();
  const keep: number[] = [];
  for (let i = 0; i < d.length / 4; i++) {
    if (d[4 * i + 2]! - d[4 * i]! >= minSize && d[4 * i + 3]! - d[4 * i + 1]! >= minSize) keep.push(i);
  }
  return intTensor(keep);
}

/** @internal An int32 1-d tensor (also for an empty list). */
export function intTensor(values: readonly number[]): Tensor {
  return tensor(Int32Array.from(values), { dtype: 'int32', shape: [values.length] });
}
