/**
 * LRN, InstanceNormalization (how GroupNorm travels in Kiln's and PyTorch's exports: Reshape to
 * [N, G, −1], InstanceNormalization, Reshape back, per-channel Mul/Add) and GroupNormalization
 * (scale/bias per group at opset 18–20, per channel from opset 21).
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
  GroupNormalization: (c) => {
    const x = c.input(0), scale = c.input(1), bias = c.input(2);
    const groups = c.int('num_groups');
    const ch = x.shape[1] ?? 0;
    if (x.ndim < 2 || ch % groups !== 0) throw c.error(`num_groups ${groups} must divide the channels of input [${x.shape.join(', ')}]`);
    const perChannel = c.opset >= 21;
    const want = perChannel ? ch : groups;
    if (scale.numel() !== want || bias.numel() !== want) {
      throw c.error(`scale and bias must have ${want} elements (${perChannel ? 'one per channel from opset 21' : 'one per group before opset 21'}), got [${scale.shape.join(', ')}] and [${bias.shape.join(', ')}]`);
    }
    const widen = (t: K.Tensor) => {
      if (perChannel) return t.reshape([ch]);
      const idx = K.tensor(Array.from({ length: ch }, (_, i) => Math.floor(i / (ch / groups))), { dtype: 'int32' });
      return K.indexSelect(t.reshape([groups]), 0, idx);
    };
    return K.groupNorm(x, groups, widen(scale), widen(bias), c.float('epsilon', 1e-5));
  },
};
