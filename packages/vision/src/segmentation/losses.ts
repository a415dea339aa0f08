/**
 * Segmentation losses and metrics on per-pixel logits [N, C, H, W] and int32 masks [N, H, W]:
 * pixel-wise cross-entropy, soft Dice loss, per-class IoU and mean IoU.
 */
import { checkOptions, oneHot, Tensor } from '@kiln/tensor';
import { crossEntropy, type CrossEntropyOptions, type Reduction } from '@kiln/nn';

const dims = (t: Tensor) => `[${t.shape.join(',')}]`;

/** @internal Throws `Kiln: <fn>: ...` unless logits are [N, C, H, W] and target an int32 mask [N, H, W] of the same N, H, W. */
export function checkMask(fn: string, logits: unknown, target: unknown): asserts target is Tensor {
  if (!(logits instanceof Tensor) || logits.ndim !== 4) {
    throw new Error(`Kiln: ${fn}: logits must be a tensor [N, C, H, W], got ${logits instanceof Tensor ? `shape ${dims(logits)}` : String(logits)}`);
  }
  if (!(target instanceof Tensor)) throw new Error(`Kiln: ${fn}: target must be an int32 mask tensor [N, H, W], got ${String(target)}`);
  const [n, , h, w] = logits.shape;
  if (target.ndim !== 3 || target.shape[0] !== n || target.shape[1] !== h || target.shape[2] !== w) {
    throw new Error(`Kiln: ${fn}: target mask must have shape [N, H, W] = [${n},${h},${w}] to match logits ${dims(logits)}, got ${dims(target)}`);
  }
  if (target.dtype !== 'int32') throw new Error(`Kiln: ${fn}: target mask must be int32 class indices, got dtype ${target.dtype}`);
}

function checkLabels(fn: string, target: Tensor, c: number, ignoreIndex?: number): void {
  const t = target.dataSync();
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    if (v !== ignoreIndex && (v < 0 || v >= c)) throw new Error(`Kiln: ${fn}: mask value ${v} at flat index ${i} is outside [0, ${c}) for ${c} classes`);
  }
}

/** Pixel-wise softmax cross-entropy (PyTorch's cross_entropy on [N, C, H, W] logits and [N, H, W] masks), with the mask's shape checked. */
export function pixelCrossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkMask('pixelCrossEntropy', logits, target);
  return crossEntropy(logits, target, options);
}

export interface DiceLossOptions {
  /** Added to numerator and denominator (default 1): empty classes score 1, gradients stay finite. */
  smooth?: number;
  /** Include class 0 in the average (default true). */
  includeBackground?: boolean;
  /** 'mean' over classes (default), 'sum', or 'none' ([C'] per-class losses). */
  reduction?: Reduction;
}

/**
 * Soft Dice loss: with p = softmax(logits) over classes and t the one-hot mask, per class
 * c: 1 − (2·Σ p_c t_c + smooth) / (Σ p_c + Σ t_c + smooth), the sums running over the whole
 * batch and all pixels; then averaged over classes. Insensitive to class imbalance in a way
 * cross-entropy is not (a small object's class counts as much as the background).
 */
export function diceLoss(logits: Tensor, target: Tensor, options: DiceLossOptions = {}): Tensor {
  checkOptions('diceLoss', options, { smooth: 'finite', includeBackground: 'boolean', reduction: ['mean', 'sum', 'none'] });
  checkMask('diceLoss', logits, target);
  const c = logits.shape[1]!, smooth = options.smooth ?? 1;
  if (smooth < 0) throw new Error(`Kiln: diceLoss: option 'smooth' must be >= 0, got ${smooth}`);
  checkLabels('diceLoss', target, c);
  const p = logits.softmax(1);
  const t = oneHot(target, c).permute([0, 3, 1, 2]).to(logits.dtype);
  const inter = p.mul(t).sum([0, 2, 3]), total = p.sum([0, 2, 3]).add(t.sum([0, 2, 3]));
  let loss = inter.mul(2).add(smooth).div(total.add(smooth)).neg().add(1);
  if (options.includeBackground === false) {
    if (c < 2) throw new Error(`Kiln: diceLoss: includeBackground false needs at least 2 classes, got logits ${dims(logits)}`);
    loss = loss.narrow(0, 1, c - 1);
  }
  const r = options.reduction ?? 'mean';
  return r === 'mean' ? loss.mean() : r === 'sum' ? loss.sum() : loss;
}

export interface IouOptions {
  /** Number of classes; default: the logits' C, or 1 + the largest label. */
  numClasses?: number;
  /** Pixels whose target is this label are left out. */
  ignoreIndex?: number;
}

/** Predicted labels: argmax over classes of [N, C, H, W] logits, or an int32 [N, H, W] label map as is. */
function labelsOf(fn: string, pred: Tensor, target: Tensor): Tensor {
  if (pred.ndim === 4) {
    checkMask(fn, pred, target);
    return pred.argmax(1);
  }
  if (pred.ndim !== 3 || pred.shape.some((d, i) => d !== target.shape[i]) || target.ndim !== 3) {
    throw new Error(`Kiln: ${fn}: prediction ${dims(pred)} must be logits [N, C, H, W] or labels [N, H, W] matching the target mask, got target ${dims(target)}`);
  }
  return pred;
}

/**
 * Intersection over union per class, |pred = c ∧ target = c| / |pred = c ∨ target = c|, counted
 * over all pixels of the batch. A class absent from both prediction and target gets NaN.
 */
export function iouPerClass(pred: Tensor, target: Tensor, options: IouOptions = {}): number[] {
  checkOptions('iouPerClass', options, { numClasses: 'posint', ignoreIndex: 'int' });
  const labels = labelsOf('iouPerClass', pred, target);
  const p = labels.dataSync(), t = target.dataSync();
  let c = options.numClasses ?? (pred.ndim === 4 ? pred.shape[1]! : 0);
  if (c === 0) for (let i = 0; i < t.length; i++) c = Math.max(c, Number(t[i]) + 1, Number(p[i]) + 1);
  const inter = new Float64Array(c), union = new Float64Array(c);
  for (let i = 0; i < t.length; i++) {
    const a = Number(p[i]), b = Number(t[i]);
    if (b === options.ignoreIndex) continue;
    if (a < 0 || a >= c || b < 0 || b >= c) throw new Error(`Kiln: iouPerClass: label ${a < 0 || a >= c ? a : b} at flat index ${i} is outside [0, ${c}) for ${c} classes`);
    if (a === b) { inter[a] = inter[a]! + 1; union[a] = union[a]! + 1; } else { union[a] = union[a]! + 1; union[b] = union[b]! + 1; }
  }
  return Array.from(inter, (v, k) => (union[k] === 0 ? NaN : v / union[k]!));
}

/** Mean of iouPerClass over the classes present in prediction or target (the usual mIoU). */
export function meanIou(pred: Tensor, target: Tensor, options: IouOptions = {}): number {
  const iou = iouPerClass(pred, target, options).filter((v) => !Number.isNaN(v));
  return iou.length === 0 ? NaN : iou.reduce((a, b) => a + b, 0) / iou.length;
}
