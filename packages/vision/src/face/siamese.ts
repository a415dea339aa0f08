/**
 * Siamese networks for face verification (DeepFace, FaceNet): one embedding network f applied
 * to both images; "same identity" when ‖f(a) − f(b)‖ is below a threshold, or — the binary
 * classification variant — when a logistic unit on |f(a) − f(b)| says so.
 */
import { checkOptions, noGrad, Tensor } from '@kiln/tensor';
import { Linear, Module } from '@kiln/nn';

const dims = (t: Tensor) => `[${t.shape.join(',')}]`;

function checkPair(fn: string, a: Tensor, b: Tensor): void {
  if (!(a instanceof Tensor) || !(b instanceof Tensor) || a.ndim < 1 || a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`Kiln: ${fn}: the two inputs must be batches of the same shape, got ${a instanceof Tensor ? dims(a) : String(a)} and ${b instanceof Tensor ? dims(b) : String(b)}`);
  }
}

export interface SiameseOptions {
  /** Scale embeddings to unit length (default true, as in FaceNet). */
  normalize?: boolean;
}

/** An embedding network f whose forward returns f(x) [N, D], L2-normalised by default. */
export class SiameseNetwork extends Module {
  embedding: Module;
  readonly normalize: boolean;
  constructor(embedding: Module, options: SiameseOptions = {}) {
    super();
    checkOptions('SiameseNetwork', options, { normalize: 'boolean' });
    if (!(embedding instanceof Module)) throw new Error(`Kiln: SiameseNetwork: embedding must be a Module, got ${String(embedding)}`);
    this.embedding = embedding;
    this.normalize = options.normalize ?? true;
  }
  override forward(x: Tensor): Tensor {
    const e = this.embedding.forward(x) as Tensor;
    if (e.ndim !== 2) throw new Error(`Kiln: SiameseNetwork: the embedding network must return [N, D], got ${dims(e)}`);
    return this.normalize ? e.div(e.square().sum(1, true).add(1e-12).sqrt()) : e;
  }
  /** Euclidean distances ‖f(a_i) − f(b_i)‖ [N] between the pairs (a_i, b_i). */
  distance(a: Tensor, b: Tensor): Tensor {
    checkPair('SiameseNetwork.distance', a, b);
    return this.forward(a).sub(this.forward(b)).square().sum(1).sqrt();
  }
}

/** Verification by threshold: true where ‖f(a_i) − f(b_i)‖ < threshold (no gradients, eval mode). */
export function verify(model: SiameseNetwork, a: Tensor, b: Tensor, threshold: number): boolean[] {
  if (!Number.isFinite(threshold)) throw new Error(`Kiln: verify: threshold must be a finite number, got ${threshold}`);
  const wasTraining = model.training;
  model.eval();
  try {
    const d = noGrad(() => model.distance(a, b)).dataSync();
    return Array.from(d, (v) => v < threshold);
  } finally {
    model.train(wasTraining);
  }
}

/**
 * The threshold that classifies the most pairs right as "same" (distance below it) or "different":
 * `distances` [N] and `same` (1/true for same identity). Returns the threshold (midway between
 * neighbouring distances) and the accuracy it reaches on these pairs.
 */
export function chooseThreshold(distances: ArrayLike<number>, same: ArrayLike<number | boolean>): { threshold: number; accuracy: number } {
  const n = distances.length;
  if (n === 0 || same.length !== n) throw new Error(`Kiln: chooseThreshold: distances (${n}) and same (${same.length}) must be non-empty and of equal length`);
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => distances[i]! - distances[j]!);
  const positives = Array.from(same).filter(Boolean).length;
  // threshold below everything: all "different" → correct = negatives
  let correct = n - positives, best = correct, bestT = distances[order[0]!]! - 1e-6;
  for (let k = 0; k < n; k++) {
    correct += same[order[k]!] ? 1 : -1;
    const next = k + 1 < n ? distances[order[k + 1]!]! : distances[order[k]!]! + 1e-6;
    if (correct > best && next > distances[order[k]!]!) { best = correct; bestT = (distances[order[k]!]! + next) / 2; }
  }
  return { threshold: bestT, accuracy: best / n };
}

/**
 * The binary-classification variant (DeepFace): ŷ = σ(w·|f(a) − f(b)| + b), trained with binary
 * cross-entropy on same/different pairs. forward(a, b) returns the logits [N].
 */
export class SiameseClassifier extends Module {
  embedding: Module;
  head: Linear;
  constructor(embedding: Module, embeddingSize: number) {
    super();
    if (!(embedding instanceof Module)) throw new Error(`Kiln: SiameseClassifier: embedding must be a Module, got ${String(embedding)}`);
    if (!Number.isInteger(embeddingSize) || embeddingSize < 1) throw new Error(`Kiln: SiameseClassifier: embeddingSize must be a positive integer, got ${embeddingSize}`);
    this.embedding = embedding;
    this.head = new Linear(embeddingSize, 1);
  }
  override forward(a: Tensor, b: Tensor): Tensor {
    checkPair('SiameseClassifier', a, b);
    const fa = this.embedding.forward(a) as Tensor, fb = this.embedding.forward(b) as Tensor;
    if (fa.ndim !== 2 || fa.shape[1] !== this.head.inFeatures) {
      throw new Error(`Kiln: SiameseClassifier: the embedding network must return [N, ${this.head.inFeatures}], got ${dims(fa)}`);
    }
    return this.head.forward(fa.sub(fb).abs()).reshape([-1]);
  }
}
