/**
 * Linear → Gemm(x, W, b, transB=1) for 2-D inputs (W keeps its [out, in] layout); other ranks
 * → MatMul(x, Transpose(W)) + b.
 */
import type { Tensor } from '@kiln/tensor';
import type { LayerExporter } from './index.js';

export const linear: LayerExporter = {
  export(b, m, inputs, outputs) {
    const weight = m.weight as Tensor;
    const bias = m.bias as Tensor | null;
    const x = inputs[0]!;
    if (x.ndim === 2) {
      const ins = [b.name(x), b.name(weight)];
      if (bias) ins.push(b.name(bias));
      b.node('Gemm', ins, [b.output(outputs[0]!, 'gemm')], { transB: 1 });
      return;
    }
    const wt = b.tmp('Transpose', [b.name(weight)], { perm: [1, 0] });
    if (!bias) { b.node('MatMul', [b.name(x), wt], [b.output(outputs[0]!, 'linear')]); return; }
    b.node('Add', [b.tmp('MatMul', [b.name(x), wt]), b.name(bias)], [b.output(outputs[0]!, 'linear')]);
  },
};
