/**
 * BatchNorm1d/2d (eval) → BatchNormalization(x, scale, bias, running_mean, running_var) with
 * the layer's epsilon: the state-dict tensors are the initializers, unchanged. A layer without
 * affine parameters gets ones/zeros; one without running statistics normalises by the batch
 * even in eval, which BatchNormalization cannot express, so it stays on the traced primitives.
 */
import { ones, zeros, type Tensor } from '@kiln/tensor';
import type { LayerExporter } from './index.js';

export const batchNorm: LayerExporter = {
  accepts: (m) => m.running_mean != null && m.running_var != null,
  export(b, m, inputs, outputs) {
    const mean = m.running_mean as Tensor;
    const c = mean.shape[0]!;
    const dtype = mean.dtype as 'float32' | 'float64';
    const scale = (m.weight as Tensor | null) ?? ones([c], { dtype });
    const bias = (m.bias as Tensor | null) ?? zeros([c], { dtype });
    b.node('BatchNormalization', [b.name(inputs[0]!), b.name(scale), b.name(bias), b.name(mean), b.name(m.running_var as Tensor)],
      [b.output(outputs[0]!, 'batch_norm')], { epsilon: { float: m.eps as number } });
  },
};
