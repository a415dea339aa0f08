/**
 * GroupNorm → Reshape(x, [0, G, −1]) · InstanceNormalization(ones[G], zeros[G], eps) · Reshape
 * back to Shape(x) · weight + bias, with weight/bias (the state-dict tensors, [C]) reshaped to
 * [C, 1, …] in the graph. This is the form PyTorch exports; GroupNormalization-18 would need
 * per-group scales (FACTS: use opset 21 or decompose), and it keeps the batch dim symbolic.
 */
import { ones, zeros, type Tensor } from '@kiln/tensor';
import type { LayerExporter } from './index.js';

export const groupNorm: LayerExporter = {
  export(b, m, inputs, outputs) {
    const x = inputs[0]!;
    const g = m.numGroups as number;
    const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
    const grouped = b.tmp('Reshape', [b.name(x), b.int64([0, g, -1], 'group_shape')]);
    const normed = b.tmp('InstanceNormalization', [grouped, b.name(ones([g], { dtype })), b.name(zeros([g], { dtype }))], { epsilon: { float: m.eps as number } });
    const weight = m.weight as Tensor | null, bias = m.bias as Tensor | null;
    const perChannel = [x.shape[1]!, ...x.shape.slice(2).map(() => 1)];
    const steps: [string, Tensor][] = [];
    if (weight) steps.push(['Mul', weight]);
    if (bias) steps.push(['Add', bias]);
    const shape = b.tmp('Shape', [b.name(x)]);
    if (steps.length === 0) {
      b.node('Reshape', [normed, shape], [b.output(outputs[0]!, 'group_norm')]);
      return;
    }
    let y = b.tmp('Reshape', [normed, shape]);
    steps.forEach(([op, t], i) => {
      const param = b.tmp('Reshape', [b.name(t), b.int64(perChannel, 'channel_shape')]);
      const ins = [y, param];
      if (i === steps.length - 1) b.node(op, ins, [b.output(outputs[0]!, 'group_norm')]);
      else y = b.tmp(op, ins);
    });
  },
};
