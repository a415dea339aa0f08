/**
 * Adaptive max pooling: to 1×…×1 it is GlobalMaxPool; with uniform windows (every input size
 * a multiple of the output size) a MaxPool whose kernel and stride are in/out. PyTorch's uneven
 * windows overlap irregularly, which MaxPool cannot express: a clear error.
 */
import type { OpExporter } from './index.js';

export const poolOps: Record<string, OpExporter> = {
  adaptiveMaxPool: (b, r) => {
    const x = r.inputs[0]!;
    const out = (r.attrs.outputSize as readonly number[]).map(Number);
    if (x.ndim !== out.length + 2) {
      throw new Error(`Kiln: onnx export: adaptiveMaxPool needs a batched input (N, C, ...${out.length} spatial dims) for ONNX, got shape [${x.shape.join(', ')}]`);
    }
    const inSize = x.shape.slice(2);
    if (out.every((o) => o === 1)) { b.node('GlobalMaxPool', [b.name(x)], [b.output(r.outputs[0]!, 'global_max_pool')]); return; }
    if (out.some((o, i) => inSize[i]! % o !== 0)) {
      throw new Error(`Kiln: onnx export: adaptiveMaxPool from [${inSize.join(', ')}] to [${out.join(', ')}] has uneven windows, which ONNX MaxPool cannot express`);
    }
    const k = out.map((o, i) => inSize[i]! / o);
    b.node('MaxPool', [b.name(x)], [b.output(r.outputs[0]!, 'max_pool')], { kernel_shape: k, strides: k, pads: [...k.map(() => 0), ...k.map(() => 0)] });
  },
};
