/**
 * Online triplet mining within a batch (FaceNet; Hermans et al. 2017 "In Defense of the Triplet
 * Loss"): from embeddings [B, D] and identity labels [B], pick triplets from all pairs of the
 * batch instead of forming them in advance. Selection is made on the current distances (no
 * gradient through the choice); the loss is differentiable in the embeddings.
 */
import { checkOptions, Tensor, tensor } from '@kiln/tensor';

const dims = (t: Tensor) => `[${t.shape.join(',')}]`;

/**
 * Euclidean distances between all rows of `x` (`[B, D]`), as a `[B, B]` matrix, computed as
 * sqrt(max(‖a‖² + ‖b‖² − 2a·b, 0) + eps) — `eps` (default 1e-12) keeps the gradient finite at 0.
 */
export function distanceMatrix(x: Tensor, eps = 1e-12): Tensor {
  if (!(x instanceof Tensor) || x.ndim !== 2) throw new Error(`Kiln: distanceMatrix: expected embeddings [B, D], got ${x instanceof Tensor ? dims(x) : String(x)}`);
  const sq = x.square().sum(1, true);
  const d2 = sq.add(sq.t()).sub(x.matmul(x.t()).mul(2)).relu();
  return d2.add(eps).sqrt();
}

function checkBatch(fn: string, embeddings: Tensor, labels: Tensor): Int32Array {
  if (!(embeddings instanceof Tensor) || embeddings.ndim !== 2) {
    throw new Error(`Kiln: ${fn}: embeddings must be [B, D], got ${embeddings instanceof Tensor ? dims(embeddings) : String(embeddings)}`);
  }
  if (!(labels instanceof Tensor) || labels.ndim !== 1 || labels.shape[0] !== embeddings.shape[0]) {
    throw new Error(`Kiln: ${fn}: labels must be [B] = [${embeddings.shape[0]}] to match embeddings ${dims(embeddings)}, got ${labels instanceof Tensor ? dims(labels) : String(labels)}`);
  }
  if (labels.dtype !== 'int32') throw new Error(`Kiln: ${fn}: labels must be int32 identities, got dtype ${labels.dtype}`);
  return Int32Array.from(labels.dataSync() as Int32Array);
}

export interface MiningOptions {
  /** Default 0.2 (for embeddings on the unit sphere, as in FaceNet; use ~1 for unnormalised ones). */
  margin?: number;
}

export interface MinedLoss {
  /** Mean of max(d(a, p) − d(a, n) + margin, 0) over the mined triplets (0 when there are none). */
  loss: Tensor;
  /** Number of mined triplets, and how many have a positive loss. */
  triplets: number;
  active: number;
}

function finishLoss(dist: Tensor, anchors: number[], pos: number[], neg: number[], b: number, margin: number): MinedLoss {
  if (anchors.length === 0) return { loss: dist.sum().mul(0), triplets: 0, active: 0 };
  const flat = dist.reshape([b * b]);
  const take = (i: number[], j: number[]) => flat.indexSelect(0, tensor(Int32Array.from(i.map((a, k) => a * b + j[k]!)), { dtype: 'int32' }));
  const per = take(anchors, pos).sub(take(anchors, neg)).add(margin).relu();
  const active = (per.dataSync() as Float32Array).filter((v) => v > 0).length;
  return { loss: per.mean(), triplets: anchors.length, active };
}

/**
 * Batch-hard mining: for each anchor with at least one positive and one negative in the batch,
 * its farthest positive and its nearest negative. One triplet per such anchor.
 */
export function batchHardTripletLoss(embeddings: Tensor, labels: Tensor, options: MiningOptions = {}): MinedLoss {
  checkOptions('batchHardTripletLoss', options, { margin: 'finite' });
  const y = checkBatch('batchHardTripletLoss', embeddings, labels), b = y.length;
  const dist = distanceMatrix(embeddings);
  const d = dist.dataSync();
  const A: number[] = [], P: number[] = [], N: number[] = [];
  for (let a = 0; a < b; a++) {
    let hp = -1, hn = -1;
    for (let j = 0; j < b; j++) {
      if (j === a) continue;
      if (y[j] === y[a]) { if (hp < 0 || d[a * b + j]! > d[a * b + hp]!) hp = j; }
      else if (hn < 0 || d[a * b + j]! < d[a * b + hn]!) hn = j;
    }
    if (hp >= 0 && hn >= 0) { A.push(a); P.push(hp); N.push(hn); }
  }
  return finishLoss(dist, A, P, N, b, options.margin ?? 0.2);
}

/**
 * Semi-hard mining (FaceNet): for every anchor–positive pair (a, p), the nearest negative
 * farther than the positive, d(a, p) < d(a, n) (so within the margin when the loss is
 * positive); when no negative is farther, the farthest negative (the easiest, as in TensorFlow
 * Addons' triplet_semihard_loss). One triplet per ordered positive pair.
 */
export function batchSemiHardTripletLoss(embeddings: Tensor, labels: Tensor, options: MiningOptions = {}): MinedLoss {
  checkOptions('batchSemiHardTripletLoss', options, { margin: 'finite' });
  const y = checkBatch('batchSemiHardTripletLoss', embeddings, labels), b = y.length;
  const dist = distanceMatrix(embeddings);
  const d = dist.dataSync();
  const A: number[] = [], P: number[] = [], N: number[] = [];
  for (let a = 0; a < b; a++) {
    for (let p = 0; p < b; p++) {
      if (p === a || y[p] !== y[a]) continue;
      const dap = d[a * b + p]!;
      let semi = -1, far = -1;
      for (let n = 0; n < b; n++) {
        if (y[n] === y[a]) continue;
        const dan = d[a * b + n]!;
        if (dan > dap && (semi < 0 || dan < d[a * b + semi]!)) semi = n;
        if (far < 0 || dan > d[a * b + far]!) far = n;
      }
      if (far < 0) continue;
      A.push(a); P.push(p); N.push(semi >= 0 ? semi : far);
    }
  }
  return finishLoss(dist, A, P, N, b, options.margin ?? 0.2);
}
