/**
 * LayerNorm → LayerNormalization(x, scale, bias) over the trailing normalizedShape dims
 * (axis = −k, opset 17), with ones for the scale of a layer without affine parameters.
 */
import { ones, type Tensor } from '@kiln/tensor';
import type { LayerExporter } from './index.js';

export const layerNorm: LayerExporter = {
  export(b, m, inputs, outputs) {
    const shape = m.normalizedShape as number[];
    const x = inputs[0]!;
    const scale = (m.weight as Tensor | null) ?? ones(shape, { dtype: x.dtype as 'float32' | 'float64' });
    const ins = [b.name(x), b.name(scale)];
    if (m.bias) ins.push(b.name(m.bias as Tensor));
    b.node('LayerNormalization', ins, [b.output(outputs[0]!, 'layer_norm')], { axis: -shape.length, epsilon: { float: m.eps as number } });
  },
};
