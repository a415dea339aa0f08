/**
 * Classification with localisation and landmark regression (course 4, 4.3.1.1–2).
 *
 * A localisation head predicts y = [pc, bx, by, bh, bw, c1..cC] for one object per image:
 * pc the probability an object is present, (bx, by) its box centre and (bh, bw) its box height
 * and width as fractions of the image side, c the class. The head outputs logits; the loss
 * applies the squashing itself (sigmoid for pc and the box, log-softmax for the class) and
 * counts the box and class terms only where the target's pc = 1.
 */
import { Linear, Module, binaryCrossEntropyWithLogits } from '@kiln/nn';
import { checkOptions, type Tensor } from '@kiln/tensor';

/** Linear head from a backbone's features [N, F] to the localisation logits [N, 5 + C]. */
export class LocalizationHead extends Module {
  fc: Linear;
  readonly numClasses: number;
  constructor(inFeatures: number, numClasses: number) {
    super();
    for (const [k, v] of [['inFeatures', inFeatures], ['numClasses', numClasses]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Kiln: LocalizationHead: ${k} must be a positive integer, got ${String(v)}`);
    }
    this.numClasses = numClasses;
    this.fc = new Linear(inFeatures, 5 + numClasses);
  }
  override forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}

export interface LocalizationPrediction {
  /** Object probability [N]. */
  pc: Tensor;
  /** [bx, by, bh, bw] in [0, 1], [N, 4]. */
  box: Tensor;
  /** Class probabilities [N, C]. */
  classProbs: Tensor;
}

function checkLocalization(fn: string, output: Tensor, target?: Tensor): void {
  if (output.ndim !== 2 || output.shape[1]! < 6) throw new Error(`Kiln: ${fn}: output must have shape [N, 5 + C] with C >= 1, got [${output.shape.join(', ')}]`);
  if (target && (target.ndim !== 2 || target.shape[0] !== output.shape[0] || target.shape[1] !== output.shape[1])) {
    throw new Error(`Kiln: ${fn}: target must have the output's shape [${output.shape.join(', ')}], got [${target.shape.join(', ')}]`);
  }
}

/** Squashes localisation logits [N, 5 + C] into probabilities and a box. */
export function decodeLocalization(output: Tensor): LocalizationPrediction {
  checkLocalization('decodeLocalization', output);
  const c = output.shape[1]! - 5;
  return { pc: output.narrow(1, 0, 1).squeeze(1).sigmoid(), box: output.narrow(1, 1, 4).sigmoid(), classProbs: output.narrow(1, 5, c).softmax(1) };
}

export interface LocalizationLossOptions {
  /** Weight of the box term (default 5: box errors in [0, 1]² are small numbers). */
  boxWeight?: number;
  /** Weight of the class term (default 1). */
  classWeight?: number;
}

export interface LocalizationLoss {
  /** objectness + boxWeight · box + classWeight · cls, the one to call backward on. */
  total: Tensor;
  /** Binary cross-entropy of pc, mean over all N images. */
  objectness: Tensor;
  /** Squared error of (bx, by, bh, bw) summed over the 4, mean over images with pc = 1 (0 if none). */
  box: Tensor;
  /** Cross-entropy of the class, mean over images with pc = 1 (0 if none). */
  cls: Tensor;
}

/**
 * Loss for y = [pc, bx, by, bh, bw, c1..cC]: BCE on pc for every image; the box's squared error
 * and the class cross-entropy only where the target's pc = 1 (images without an object
 * contribute nothing to them, whatever the target's other entries hold).
 */
export function localizationLoss(output: Tensor, target: Tensor, options: LocalizationLossOptions = {}): LocalizationLoss {
  checkLocalization('localizationLoss', output, target);
  checkOptions('localizationLoss', options, { boxWeight: 'finite', classWeight: 'finite' });
  const c = output.shape[1]! - 5;
  const t = target.to(output.dtype);
  const pc = t.narrow(1, 0, 1).squeeze(1);
  const objectness = binaryCrossEntropyWithLogits(output.narrow(1, 0, 1).squeeze(1), pc);
  const count = Math.max(1, pc.sum().item());
  const boxErr = output.narrow(1, 1, 4).sigmoid().sub(t.narrow(1, 1, 4)).square().sum(1);
  const box = boxErr.mul(pc).sum().div(count);
  const ce = output.narrow(1, 5, c).logSoftmax(1).mul(t.narrow(1, 5, c)).sum(1).neg();
  const cls = ce.mul(pc).sum().div(count);
  const total = objectness.add(box.mul(options.boxWeight ?? 5)).add(cls.mul(options.classWeight ?? 1));
  return { total, objectness, box, cls };
}

/** Linear head from features [N, F] to K landmarks [N, K, 2] ((x, y) as fractions of the image side). */
export class LandmarkHead extends Module {
  fc: Linear;
  readonly numPoints: number;
  constructor(inFeatures: number, numPoints: number) {
    super();
    for (const [k, v] of [['inFeatures', inFeatures], ['numPoints', numPoints]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Kiln: LandmarkHead: ${k} must be a positive integer, got ${String(v)}`);
    }
    this.numPoints = numPoints;
    this.fc = new Linear(inFeatures, 2 * numPoints);
  }
  override forward(x: Tensor): Tensor {
    return this.fc.forward(x).reshape(x.shape[0]!, this.numPoints, 2);
  }
}

function checkLandmarks(fn: string, pred: Tensor, target: Tensor): void {
  if (pred.ndim !== 3 || pred.shape[2] !== 2 || target.ndim !== 3 || pred.shape[0] !== target.shape[0] || pred.shape[1] !== target.shape[1] || target.shape[2] !== 2) {
    throw new Error(`Kiln: ${fn}: pred and target must both have shape [N, K, 2], got [${pred.shape.join(', ')}] and [${target.shape.join(', ')}]`);
  }
}

/** Mean squared error over all landmark coordinates. */
export function landmarkLoss(pred: Tensor, target: Tensor): Tensor {
  checkLandmarks('landmarkLoss', pred, target);
  return pred.sub(target.to(pred.dtype)).square().mean();
}

/** Mean Euclidean distance between predicted and true landmarks (in the targets' units). */
export function landmarkError(pred: Tensor, target: Tensor): number {
  checkLandmarks('landmarkError', pred, target);
  return pred.sub(target.to(pred.dtype)).square().sum(2).sqrt().mean().item();
}
