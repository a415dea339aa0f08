/**
 * LocalResponseNorm → LRN(size, alpha, beta, bias = k). ONNX sums channels
 * c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉ and PyTorch c − ⌊size/2⌋ … c + ⌊(size−1)/2⌋: the same
 * window for odd sizes only, so an even size stays on its traced primitives (AveragePool, Slice…).
 */
import type { LayerExporter } from './index.js';

export const localResponseNorm: LayerExporter = {
  accepts: (m) => (m.size as number) % 2 === 1,
  export(b, m, inputs, outputs) {
    b.node('LRN', [b.name(inputs[0]!)], [b.output(outputs[0]!, 'lrn')], {
      size: m.size as number, alpha: { float: m.alpha as number }, beta: { float: m.beta as number }, bias: { float: m.k as number },
    });
  },
};
