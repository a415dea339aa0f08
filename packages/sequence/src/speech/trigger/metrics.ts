/**
 * Event-level detection scores for trigger words.
 *
 * A detection is an upward crossing of the threshold: a step t with p[t] ≥ θ and (t = 0 or
 * p[t−1] < θ). A labelled window (the 50 steps after a trigger ends) is a true positive when at
 * least one detection falls inside it; further detections in the same window are ignored (one
 * event, however much the output flickers). A window without a detection is a false negative,
 * and every detection outside all windows is a false positive. So an output that is already high
 * when the window opens (it fired early) scores a false positive and a miss.
 * precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R) (1 when there is nothing to find
 * and nothing is found).
 */

export interface DetectionCounts {
  tp: number;
  fp: number;
  fn: number;
}

export interface DetectionScores extends DetectionCounts {
  precision: number;
  recall: number;
  f1: number;
}

/** The steps where `probs` crosses `threshold` upwards. */
export function detectionSteps(probs: ArrayLike<number>, threshold = 0.5): number[] {
  const out: number[] = [];
  for (let t = 0; t < probs.length; t++) {
    if (probs[t]! >= threshold && (t === 0 || probs[t - 1]! < threshold)) out.push(t);
  }
  return out;
}

/** Counts for one clip: its output `probs` and its labelled windows `[from, to)`. */
export function countDetections(probs: ArrayLike<number>, windows: readonly (readonly [number, number])[], threshold = 0.5): DetectionCounts {
  const steps = detectionSteps(probs, threshold);
  const inside = (t: number) => windows.findIndex(([a, b]) => t >= a && t < b);
  const hit = new Set<number>();
  let fp = 0;
  for (const t of steps) {
    const w = inside(t);
    if (w < 0) fp++;
    else hit.add(w);
  }
  return { tp: hit.size, fp, fn: windows.length - hit.size };
}

/** Precision, recall and F1 from summed counts. */
export function detectionScores(counts: readonly DetectionCounts[]): DetectionScores {
  const c = counts.reduce((s, x) => ({ tp: s.tp + x.tp, fp: s.fp + x.fp, fn: s.fn + x.fn }), { tp: 0, fp: 0, fn: 0 });
  const precision = c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
  const recall = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...c, precision, recall, f1 };
}
