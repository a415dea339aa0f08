/** Dense, convolution, pooling, resizing (input batched N×C×spatial, as ONNX requires) and layer-norm ops. */
import { ones, type Tensor, type TraceRecord } from '@kiln/tensor';
import type { GraphBuilder } from '../builder.js';
import type { OpExporter } from './index.js';

const ints = (r: TraceRecord, key: string) => (r.attrs[key] as readonly number[]).map(Number);

function requireBatched(r: TraceRecord, x: Tensor, spatial: number): void {
  if (x.ndim !== spatial + 2) {
    throw new Error(`Kiln: onnx export: ${r.op} needs a batched input (N, C, ...${spatial} spatial dims) for ONNX, got shape [${x.shape.join(', ')}]`);
  }
}

export const nnOps: Record<string, OpExporter> = {
  // x·Wᵀ + b → Gemm(x, W, b, transB=1) for 2-D x (W keeps its [out, in] layout, so the
  // initializer is the state-dict tensor unchanged); other ranks → MatMul(x, Transpose(W)) + b.
  linear: (b, r) => {
    const [x, weight, bias] = r.inputs;
    if (x!.ndim === 2) {
      b.node('Gemm', r.inputs.map((t) => b.name(t)), [b.output(r.outputs[0]!, 'gemm')], { transB: 1 });
      return;
    }
    const wt = b.tmp('Transpose', [b.name(weight!)], { perm: [1, 0] });
    if (!bias) {
      b.node('MatMul', [b.name(x!), wt], [b.output(r.outputs[0]!, 'linear')]);
      return;
    }
    b.node('Add', [b.tmp('MatMul', [b.name(x!), wt]), b.name(bias)], [b.output(r.outputs[0]!, 'linear')]);
  },
  // F.layer_norm → LayerNormalization(x, scale, bias) over the trailing dims (axis = −k, opset 17),
  // with ones for the scale when the call had no weight (ONNX requires one).
  layerNorm: (b, r) => {
    const shape = ints(r, 'normalizedShape');
    const [x, ...rest] = r.inputs;
    const weight = r.attrs.weight ? rest.shift()! : ones(shape, { dtype: x!.dtype as 'float32' | 'float64' });
    const ins = [b.name(x!), b.name(weight)];
    if (r.attrs.bias) ins.push(b.name(rest.shift()!));
    b.node('LayerNormalization', ins, [b.output(r.outputs[0]!, 'layer_norm')], { axis: -shape.length, epsilon: { float: Number(r.attrs.eps) } });
  },
  conv: (b, r) => {
    const k = ints(r, 'kernelShape');
    requireBatched(r, r.inputs[0]!, k.length);
    b.node('Conv', r.inputs.map((t) => b.name(t)), [b.output(r.outputs[0]!, 'conv')], {
      kernel_shape: k, strides: ints(r, 'strides'), pads: ints(r, 'pads'), dilations: ints(r, 'dilations'), group: Number(r.attrs.group),
    });
  },
  convTranspose: (b, r) => {
    const k = ints(r, 'kernelShape');
    requireBatched(r, r.inputs[0]!, k.length);
    b.node('ConvTranspose', r.inputs.map((t) => b.name(t)), [b.output(r.outputs[0]!, 'conv_transpose')], {
      kernel_shape: k, strides: ints(r, 'strides'), pads: ints(r, 'pads'), dilations: ints(r, 'dilations'),
      group: Number(r.attrs.group), output_padding: ints(r, 'outputPadding'),
    });
  },
  maxPool: (b, r) => {
    const k = ints(r, 'kernelShape');
    requireBatched(r, r.inputs[0]!, k.length);
    b.node('MaxPool', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'max_pool')], {
      kernel_shape: k, strides: ints(r, 'strides'), pads: ints(r, 'pads'), dilations: ints(r, 'dilations'), ceil_mode: r.attrs.ceilMode ? 1 : 0,
    });
  },
  avgPool: (b, r) => {
    const k = ints(r, 'kernelShape');
    requireBatched(r, r.inputs[0]!, k.length);
    // PyTorch-style count_include_pad is explicit here: ONNX defaults it to 0.
    b.node('AveragePool', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'avg_pool')], {
      kernel_shape: k, strides: ints(r, 'strides'), pads: ints(r, 'pads'), ceil_mode: r.attrs.ceilMode ? 1 : 0,
      count_include_pad: r.attrs.countIncludePad ? 1 : 0,
    });
  },
  adaptiveAvgPool: (b, r) => {
    const x = r.inputs[0]!;
    const out = ints(r, 'outputSize');
    requireBatched(r, x, out.length);
    const inSize = x.shape.slice(2);
    if (out.every((o) => o === 1)) { b.node('GlobalAveragePool', [b.name(x)], [b.output(r.outputs[0]!, 'global_avg_pool')]); return; }
    if (out.some((o, i) => inSize[i]! % o !== 0)) {
      throw new Error(`Kiln: onnx export: adaptiveAvgPool from [${inSize.join(', ')}] to [${out.join(', ')}] has uneven windows, which ONNX AveragePool cannot express`);
    }
    const k = out.map((o, i) => inSize[i]! / o);
    b.node('AveragePool', [b.name(x)], [b.output(r.outputs[0]!, 'avg_pool')], { kernel_shape: k, strides: k, pads: [...k.map(() => 0), ...k.map(() => 0)] });
  },
  interpolate: (b, r) => {
    const x = r.inputs[0]!, y = r.outputs[0]!;
    requireBatched(r, x, x.ndim - 2);
    // Scales (not sizes) keep N symbolic; PyTorch's nearest is floor(out_index · in/out).
    const scales = y.shape.map((n, i) => (i < 2 ? 1 : n / x.shape[i]!));
    const linear = r.attrs.mode === 'linear';
    const ctm = linear ? (r.attrs.alignCorners ? 'align_corners' : 'pytorch_half_pixel') : 'asymmetric';
    const raw = new Uint8Array(scales.length * 4);
    const v = new DataView(raw.buffer);
    scales.forEach((s, i) => v.setFloat32(i * 4, s, true));
    const name = b.unique('scales');
    b.initializers.push({ name, dims: [scales.length], dataType: 1, rawData: raw });
    b.node('Resize', [b.name(x), '', name], [b.output(y, 'resize')], {
      mode: linear ? 'linear' : 'nearest', coordinate_transformation_mode: ctm, ...(linear ? {} : { nearest_mode: 'floor' }),
    });
  },
};
