/**
 * Feature caching, the transfer-learning speed trick: run a frozen trunk once over a dataset,
 * keep (or save) its activations, and train only the head on them. With the trunk frozen (its
 * batch norms in eval mode, see `freeze`) and no random layers in it, the head sees exactly the
 * inputs it would see when trained through the trunk — at the cost of one forward pass in all.
 */
import { checkOptions, noGrad, tensor, Tensor } from '@kiln/tensor';
import { Module, saveSafetensors, loadSafetensors } from '@kiln/nn';
import { DataLoader, TensorDataset, type Dataset } from '@kiln/data';

export interface CacheFeaturesOptions {
  /** Batch size of the single pass (default 256). */
  batchSize?: number;
  /** Also save `{ features, labels }` to this safetensors file (atomic write). */
  path?: string;
}

function concat(parts: Tensor[], op: string): Tensor {
  const first = parts[0]!;
  const rest = first.shape.slice(1);
  for (const p of parts) {
    if (p.shape.slice(1).join() !== rest.join()) throw new Error(`Kiln: ${op}: the trunk gave outputs of shapes [${first.shape.join(', ')}] and [${p.shape.join(', ')}] for different batches`);
  }
  const n = parts.reduce((a, p) => a + p.shape[0]!, 0);
  const src0 = first.dataSync(), Ctor = src0.constructor as new (len: number) => Float32Array;
  const out = new Ctor(parts.reduce((a, p) => a + p.numel(), 0));
  let off = 0;
  for (const p of parts) { out.set(p.dataSync() as Float32Array, off); off += p.numel(); }
  return tensor(out, { shape: [n, ...rest], dtype: first.dtype });
}

/**
 * Runs `trunk` (in eval mode, without gradients) over a dataset of `[input, label]` items, in
 * order, and returns a TensorDataset of `[features, label]`; with `path`, saves it too.
 * The trunk's training mode is restored afterwards.
 */
export async function cacheFeatures(trunk: Module, dataset: Dataset, options: CacheFeaturesOptions = {}): Promise<TensorDataset> {
  const op = 'cacheFeatures';
  if (!(trunk instanceof Module)) throw new Error(`Kiln: ${op}: trunk must be a Module, got ${String(trunk)}`);
  if (!dataset || typeof dataset.get !== 'function' || !(dataset.length > 0)) throw new Error(`Kiln: ${op}: dataset must be a non-empty Dataset of [input, label] items`);
  checkOptions(op, options, { batchSize: 'posint', path: 'string' });
  const batchSize = options.batchSize ?? 256;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`Kiln: ${op}: batchSize must be a positive integer, got ${batchSize}`);
  const feats: Tensor[] = [], labels: Tensor[] = [];
  const wasTraining = trunk.training;
  trunk.eval();
  try {
    noGrad(() => {
      for (const batch of new DataLoader(dataset, { batchSize })) {
        if (batch.length < 2) throw new Error(`Kiln: ${op}: dataset items must be [input, label], got ${batch.length} tensor(s)`);
        feats.push(trunk.forward(batch[0]!) as Tensor);
        labels.push(batch[1]!);
      }
    });
  } finally {
    trunk.train(wasTraining);
  }
  const features = concat(feats, op), y = concat(labels, op);
  if (options.path) {
    await saveSafetensors(options.path, { features, labels: y }, { 'kiln.features.trunk': trunk.constructor.name, 'kiln.features.count': String(features.shape[0]) });
  }
  return new TensorDataset(features, y);
}

/** Loads features saved by `cacheFeatures({ path })` as a TensorDataset of `[features, label]`. */
export async function loadCachedFeatures(path: string): Promise<TensorDataset> {
  const { tensors } = await loadSafetensors(path);
  const { features, labels } = tensors;
  if (!features || !labels) {
    throw new Error(`Kiln: loadCachedFeatures: ${path} must hold tensors 'features' and 'labels', found [${Object.keys(tensors).join(', ')}]`);
  }
  return new TensorDataset(features, labels);
}
