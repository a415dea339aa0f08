/** Movement, indexing and reduction ops. Shape operands are int64 initializers (opset ≥ 13). */
import type { Tensor, TraceRecord } from '@kiln/tensor';
import type { GraphBuilder } from '../builder.js';
import type { OpExporter } from './index.js';

const ints = (r: TraceRecord, key: string) => (r.attrs[key] as readonly number[]).map(Number);

/**
 * A Reshape target that keeps the batch dimension symbolic: when the batch is dynamic and the
 * leading dim passes through unchanged, it is written as 0 ("copy from input").
 */
function reshapeTarget(b: GraphBuilder, x: Tensor, target: readonly number[]): number[] {
  const t = [...target];
  const batch = b.dynamicBatch;
  if (batch !== null && x.shape.length > 0 && t.length > 0 && x.shape[0] === batch && t[0] === batch) t[0] = 0;
  else if (batch !== null && t.length > 0 && !t.includes(-1) && t[0] === batch && t.length > 1) t[0] = -1;
  return t;
}

function reduce(opType: string): OpExporter {
  return (b, r) => {
    const x = r.inputs[0]!;
    const dims = r.attrs.dims ?? r.attrs.dim;
    const axes = dims === null || dims === undefined ? [] : (Array.isArray(dims) ? dims : [dims]).map(Number);
    const inputs = [b.name(x)];
    if (axes.length > 0) inputs.push(b.int64(axes, 'axes'));
    b.node(opType, inputs, [b.output(r.outputs[0]!, opType.toLowerCase())], { keepdims: r.attrs.keepdim ? 1 : 0 });
  };
}

export const shapeOps: Record<string, OpExporter> = {
  reshape: (b, r) => {
    const x = r.inputs[0]!;
    b.node('Reshape', [b.name(x), b.int64(reshapeTarget(b, x, r.outputs[0]!.shape), 'shape')], [b.output(r.outputs[0]!, 'reshape')]);
  },
  flatten: (b, r) => {
    const x = r.inputs[0]!;
    const s = Number(r.attrs.startDim), e = Number(r.attrs.endDim);
    if (x.ndim >= 2 && e === x.ndim - 1 && s >= 1) {
      b.node('Flatten', [b.name(x)], [b.output(r.outputs[0]!, 'flatten')], { axis: s });
      return;
    }
    // Dims before startDim are copied (0), the flattened run is inferred (-1), later dims are fixed.
    const target = [...x.shape.slice(0, s).map(() => 0), -1, ...x.shape.slice(e + 1)];
    b.node('Reshape', [b.name(x), b.int64(x.ndim === 0 ? [1] : target, 'shape')], [b.output(r.outputs[0]!, 'flatten')]);
  },
  squeeze: (b, r) => {
    b.node('Squeeze', [b.name(r.inputs[0]!), b.int64(ints(r, 'dims'), 'axes')], [b.output(r.outputs[0]!, 'squeeze')]);
  },
  unsqueeze: (b, r) => {
    b.node('Unsqueeze', [b.name(r.inputs[0]!), b.int64(ints(r, 'dims'), 'axes')], [b.output(r.outputs[0]!, 'unsqueeze')]);
  },
  permute: (b, r) => {
    b.node('Transpose', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'transpose')], { perm: ints(r, 'perm') });
  },
  expand: (b, r) => {
    const x = r.inputs[0]!;
    const target = [...r.outputs[0]!.shape];
    // Expand broadcasts, so a 1 keeps the input's dim (lets a batch dim stay symbolic).
    if (b.dynamicBatch !== null && x.ndim === target.length && x.shape[0] === target[0]) target[0] = 1;
    b.node('Expand', [b.name(x), b.int64(target, 'shape')], [b.output(r.outputs[0]!, 'expand')]);
  },
  slice: (b, r) => {
    const d = Number(r.attrs.dim), s = Number(r.attrs.start), e = Number(r.attrs.end), step = Number(r.attrs.step);
    b.node('Slice', [b.name(r.inputs[0]!), b.int64([s], 'starts'), b.int64([e], 'ends'), b.int64([d], 'axes'), b.int64([step], 'steps')],
      [b.output(r.outputs[0]!, 'slice')]);
  },
  flip: (b, r) => {
    const dims = ints(r, 'dims');
    const big = -(2 ** 53 - 1);
    b.node('Slice', [b.name(r.inputs[0]!), b.int64(dims.map(() => -1), 'starts'), b.int64(dims.map(() => big), 'ends'),
      b.int64(dims, 'axes'), b.int64(dims.map(() => -1), 'steps')], [b.output(r.outputs[0]!, 'flip')]);
  },
  cat: (b, r) => {
    b.node('Concat', r.inputs.map((t) => b.name(t)), [b.output(r.outputs[0]!, 'concat')], { axis: Number(r.attrs.dim) });
  },
  indexSelect: (b, r) => {
    b.node('Gather', [b.name(r.inputs[0]!), b.name(r.inputs[1]!)], [b.output(r.outputs[0]!, 'gather')], { axis: Number(r.attrs.dim) });
  },
  gather: (b, r) => {
    b.node('GatherElements', [b.name(r.inputs[0]!), b.name(r.inputs[1]!)], [b.output(r.outputs[0]!, 'gather_elements')], { axis: Number(r.attrs.dim) });
  },
  padConstant: (b, r) => {
    const x = r.inputs[0]!, y = r.outputs[0]!;
    const before = ints(r, 'before');
    const after = y.shape.map((n, i) => n - x.shape[i]! - before[i]!);
    const value = Number(r.attrs.value ?? 0);
    b.node('Pad', [b.name(x), b.int64([...before, ...after], 'pads'), b.floatScalar(value, x.dtype === 'float64' ? 'float64' : 'float32', 'pad_value')],
      [b.output(y, 'pad')], { mode: 'constant' });
  },
  sum: reduce('ReduceSum'), max: reduce('ReduceMax'), min: reduce('ReduceMin'), prod: reduce('ReduceProd'),
  argmax: (b, r) => argReduce(b, r, 'ArgMax'), argmin: (b, r) => argReduce(b, r, 'ArgMin'),
};

function argReduce(b: GraphBuilder, r: TraceRecord, opType: string): void {
  const x = r.inputs[0]!;
  const dim = r.attrs.dim;
  let src = b.name(x);
  let axis = Number(dim);
  if (dim === null || dim === undefined) { src = b.tmp('Reshape', [src, b.int64([-1], 'shape')]); axis = 0; }
  const i64 = b.tmp(opType, [src], { axis, keepdims: r.attrs.keepdim ? 1 : 0 });
  b.node('Cast', [i64], [b.output(r.outputs[0]!, opType.toLowerCase())], { to: 6 });
}
