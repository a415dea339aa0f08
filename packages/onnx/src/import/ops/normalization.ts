/**
 * LRN and InstanceNormalization (the latter is how GroupNorm travels: Reshape to [N, G, −1],
 * InstanceNormalization, Reshape back, per-channel Mul/Add — Kiln's and PyTorch's export).
 */
import * as K from '@kiln/tensor';
import type { OpHandler } from '../context.js';

export const normalizationOps: Record<string, OpHandler> = {
  LRN: (c) => {
    const x = c.input(0);
    if (x.ndim < 3) throw c.error(`expects an N×C×… input of at least 3 dims, got shape [${x.shape.join(', ')}]`);
    const size = c.int('size');
    const args = [size, c.float('alpha', 1e-4), c.float('beta', 0.75), c.float('bias', 1)] as const;
    // ONNX's window is c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉, PyTorch's its mirror image: the same for
    // odd sizes; for even sizes run PyTorch's on the channels reversed.
    if (size % 2 === 1) return K.localResponseNorm(x, ...args);
    return K.flip(K.localResponseNorm(K.flip(x, [1]), ...args), [1]);
  },
  InstanceNormalization: (c) => {
    const x = c.input(0), scale = c.input(1), bias = c.input(2);
    if (x.ndim < 3) throw c.error(`expects an N×C×… input of at least 3 dims, got shape [${x.shape.join(', ')}]`);
    // Instance norm is group norm with one channel per group.
    return K.groupNorm(x, x.shape[1]!, scale, bias, c.float('epsilon', 1e-5));
  },
};
