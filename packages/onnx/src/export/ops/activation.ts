/**
 * Composite activations with their own ONNX op (opset 14+): HardSigmoid with PyTorch's slope
 * 1/6 and offset 1/2, and HardSwish. ReLU6 needs no entry (it runs clamp → Clip) and SiLU
 * neither (sigmoid, mul → Sigmoid·x).
 */
import type { OpExporter } from './index.js';

export const activationOps: Record<string, OpExporter> = {
  hardsigmoid: (b, r) => {
    b.node('HardSigmoid', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'hard_sigmoid')], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } });
  },
  hardswish: (b, r) => { b.node('HardSwish', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'hard_swish')]); },
};
