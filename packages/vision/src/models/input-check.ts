/**
 * Input checks of the zoo models: the channel count, and the smallest image a model's chain of
 * downsampling layers accepts (so a too-small image fails with the model's name, not deep inside
 * some pooling layer).
 */
import type { Tensor } from '@kiln/tensor';

/** One spatially reducing step (a conv or a pool) along a model's main path. */
export interface Downsample {
  k: number;
  s?: number;
  p?: number;
  d?: number;
  ceil?: boolean;
}

/** PyTorch's output size of a conv/pool window (with its ceil-mode rule); 0 when the window does not fit. */
export function windowOutput(n: number, { k, s = 1, p = 0, d = 1, ceil = false }: Downsample): number {
  const span = n + 2 * p - d * (k - 1) - 1;
  // ceil mode lets the last window overhang the input (so span may be slightly negative) ...
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // ... as long as it starts inside the input or its left padding
  if (ceil && out > 0 && (out - 1) * s >= n + p) out -= 1;
  return Math.max(0, out);
}

/** The smallest square input side for which every step of `chain` produces at least 1×1. */
export function minInputSize(chain: readonly Downsample[]): number {
  for (let n = 1; n < 100000; n++) {
    let m = n;
    if (chain.every((step) => (m = windowOutput(m, step)) >= 1)) return n;
  }
  throw new Error('Kiln: minInputSize: no input size fits this chain');
}

/**
 * Throws `Kiln: <model>: ...` unless `x` is [N, inChannels, H, W] with H, W ≥ minSize.
 */
export function checkImageInput(model: string, x: Tensor, inChannels: number, minSize: number): void {
  const shape = `[${x.shape.join(',')}]`;
  if (x.ndim !== 4 || x.shape[1] !== inChannels) {
    throw new Error(`Kiln: ${model}: expected images [N, ${inChannels}, H, W] (inChannels ${inChannels}), got input of shape ${shape}`);
  }
  const [h, w] = [x.shape[2]!, x.shape[3]!];
  if (h < minSize || w < minSize) {
    throw new Error(`Kiln: ${model}: input images of ${h}×${w} are too small for its downsampling: need at least ${minSize}×${minSize}, got input of shape ${shape}`);
  }
}
