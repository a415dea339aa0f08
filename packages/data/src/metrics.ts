import { Tensor, argmax, checkOptions, type OptionKind } from '@kiln/tensor';

/** Class predictions from model outputs: argmax over dim 1 for [N, C], threshold 0.5 (or 0 for logits) for [N] / [N, 1]. */
export function predictions(output: Tensor, options: { threshold?: number } = {}): Int32Array {
  checkOptions('predictions', options, { threshold: 'number' });
  if (output.shape.length === 2 && output.shape[1]! > 1) return Int32Array.from(argmax(output, 1).dataSync() as ArrayLike<number>);
  const t = options.threshold ?? 0.5;
  return Int32Array.from(output.dataSync() as ArrayLike<number>, (v) => (v >= t ? 1 : 0));
}

function labelsOf(x: Tensor | ArrayLike<number>): ArrayLike<number> {
  return x instanceof Tensor ? (x.dataSync() as ArrayLike<number>) : x;
}

function checkPair(op: string, pred: ArrayLike<number>, target: ArrayLike<number>): void {
  if (pred.length !== target.length) throw new Error(`Kiln: ${op}: ${pred.length} predictions for ${target.length} targets`);
  // Scores or probabilities passed for labels would compare unequal everywhere (or index a fractional row).
  for (const [what, a] of [['pred', pred], ['target', target]] as const) {
    for (let i = 0; i < a.length; i++) {
      if (!Number.isInteger(a[i])) throw new Error(`Kiln: ${op}: ${what} must hold class labels (integers), got ${a[i]} at index ${i}; use predictions(output) for model outputs`);
    }
  }
}

/** Confusion matrix: rows are true classes, columns predicted classes. */
export function confusionMatrix(pred: Tensor | ArrayLike<number>, target: Tensor | ArrayLike<number>, numClasses?: number): number[][] {
  const p = labelsOf(pred), t = labelsOf(target);
  checkPair('confusionMatrix', p, t);
  if (numClasses !== undefined && !(Number.isInteger(numClasses) && numClasses > 0)) throw new Error(`Kiln: confusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
  let k = numClasses ?? 0;
  if (numClasses === undefined) for (let i = 0; i < p.length; i++) k = Math.max(k, p[i]! + 1, t[i]! + 1);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < p.length; i++) {
    if (p[i]! < 0 || p[i]! >= k || t[i]! < 0 || t[i]! >= k) throw new Error(`Kiln: confusionMatrix: label out of range [0, ${k}): pred ${p[i]}, target ${t[i]}`);
    m[t[i]!]![p[i]!]!++;
  }
  return m;
}

/** Fraction of predictions equal to targets. */
export function accuracy(pred: Tensor | ArrayLike<number>, target: Tensor | ArrayLike<number>): number {
  const p = labelsOf(pred), t = labelsOf(target);
  checkPair('accuracy', p, t);
  let ok = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === t[i]) ok++;
  return p.length === 0 ? 0 : ok / p.length;
}

export interface ClassMetricOptions {
  /** 'binary' scores class `positive` (default 1); 'macro' averages over classes. */
  average?: 'binary' | 'macro';
  positive?: number;
  numClasses?: number;
}

function perClass(m: number[][], c: number): { precision: number; recall: number; f1: number } {
  const tp = m[c]?.[c] ?? 0;
  let fp = 0, fn = 0;
  for (let i = 0; i < m.length; i++) if (i !== c) { fp += m[i]![c]!; fn += m[c]![i]!; }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp), recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

const CLASS_METRIC_SPEC: Record<string, OptionKind> = { average: ['binary', 'macro'], positive: 'nonnegint', numClasses: 'posint' };

function score(kind: 'precision' | 'recall' | 'f1', pred: Tensor | ArrayLike<number>, target: Tensor | ArrayLike<number>, o: ClassMetricOptions): number {
  checkOptions(kind === 'f1' ? 'f1Score' : kind, o, CLASS_METRIC_SPEC);
  const m = confusionMatrix(pred, target, o.numClasses);
  if ((o.average ?? 'binary') === 'binary') return perClass(m, o.positive ?? 1)[kind];
  return m.reduce((s, _, c) => s + perClass(m, c)[kind], 0) / Math.max(1, m.length);
}

export const precision = (p: Tensor | ArrayLike<number>, t: Tensor | ArrayLike<number>, o: ClassMetricOptions = {}): number => score('precision', p, t, o);
export const recall = (p: Tensor | ArrayLike<number>, t: Tensor | ArrayLike<number>, o: ClassMetricOptions = {}): number => score('recall', p, t, o);
export const f1Score = (p: Tensor | ArrayLike<number>, t: Tensor | ArrayLike<number>, o: ClassMetricOptions = {}): number => score('f1', p, t, o);
