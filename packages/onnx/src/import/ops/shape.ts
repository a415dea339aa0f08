/** Shape, movement, indexing, reduction and type ops. */
import * as K from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import type { NodeContext, OpHandler } from '../context.js';

const norm = (c: NodeContext, axis: number, rank: number) => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw c.error(`axis ${axis} is out of range for rank ${rank}`);
  return a;
};
const int32 = (values: number[], shape = [values.length]) => new Tensor(Int32Array.from(values), shape, 'int32');

/** Axes from the input (opset ≥ 13/18) or the attribute (older opsets). */
function axesOf(c: NodeContext, inputIndex: number): number[] | null {
  if (c.optionalInput(inputIndex)) return c.ints(inputIndex);
  return c.has('axes') ? c.intList('axes') : null;
}

function reduce(kind: 'sum' | 'mean' | 'max' | 'min' | 'prod'): OpHandler {
  return (c) => {
    const x = c.input(0);
    const keep = c.int('keepdims', 1) === 1;
    let axes = axesOf(c, 1);
    if (!axes || axes.length === 0) {
      if (c.int('noop_with_empty_axes', 0)) return x;
      axes = x.shape.map((_, i) => i);
    }
    const dims = axes.map((a) => norm(c, a, x.ndim));
    if (kind === 'mean') return K.mean(x, dims, keep);
    if (kind === 'sum') return K.sum(x, dims, keep);
    if (kind === 'prod') return K.prod(x, dims, keep);
    return (kind === 'max' ? K.max : K.min)(x, dims, keep) as Tensor;
  };
}

const DTYPE: Record<number, K.DType> = { 1: 'float32', 11: 'float64', 6: 'int32', 7: 'int32', 9: 'bool', 2: 'int32', 3: 'int32', 10: 'float32' };

export const shapeOps: Record<string, OpHandler> = {
  Reshape: (c) => {
    const x = c.input(0);
    if (c.int('allowzero', 0)) c.only('allowzero', [0]);
    const target = c.ints(1).map((d, i) => (d === 0 ? x.shape[i]! : d));
    return K.reshape(x, target);
  },
  Flatten: (c) => {
    const x = c.input(0);
    const axis = c.int('axis', 1);
    const a = axis < 0 ? axis + x.ndim : axis;
    const lead = x.shape.slice(0, a).reduce((p, q) => p * q, 1);
    return K.reshape(x, [lead, -1]);
  },
  Transpose: (c) => {
    const x = c.input(0);
    return K.permute(x, c.intList('perm', x.shape.map((_, i) => x.ndim - 1 - i)));
  },
  Squeeze: (c) => {
    const x = c.input(0);
    const axes = axesOf(c, 1);
    return axes ? K.squeeze(x, axes.map((a) => norm(c, a, x.ndim))) : K.squeeze(x);
  },
  Unsqueeze: (c) => {
    let x = c.input(0);
    const axes = axesOf(c, 1);
    if (!axes) throw c.error('needs axes');
    const rank = x.ndim + axes.length;
    for (const a of axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q)) x = K.unsqueeze(x, a);
    return x;
  },
  Concat: (c) => {
    const ts = c.inputs.filter((t): t is Tensor => !!t);
    return K.cat(ts, norm(c, c.int('axis'), ts[0]!.ndim));
  },
  Split: (c) => {
    const x = c.input(0);
    const axis = norm(c, c.int('axis', 0), x.ndim);
    const sizes = c.optionalInput(1) ? c.ints(1) : c.has('split') ? c.intList('split') : null;
    if (sizes) return K.split(x, sizes, axis);
    const n = c.int('num_outputs', (c.node.output ?? []).length);
    const size = Math.ceil(x.shape[axis]! / n);
    return K.split(x, size, axis);
  },
  Slice: (c) => {
    let x = c.input(0);
    const starts = c.ints(1), ends = c.ints(2);
    const axes = c.optionalInput(3) ? c.ints(3) : starts.map((_, i) => i);
    const steps = c.optionalInput(4) ? c.ints(4) : starts.map(() => 1);
    axes.forEach((ax, i) => {
      const a = norm(c, ax, x.ndim);
      const n = x.shape[a]!;
      const step = steps[i]!;
      if (step === 0) throw c.error('a step of 0');
      const clampIdx = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + n : v));
      if (step > 0) {
        x = K.slice(x, a, clampIdx(starts[i]!, 0, n), clampIdx(ends[i]!, 0, n), step);
      } else {
        // Negative steps: flip, then slice forward over the mirrored range.
        const s = clampIdx(starts[i]!, -1, n - 1), e = ends[i]! < -n ? -1 : clampIdx(ends[i]!, -1, n - 1);
        const f = K.flip(x, [a]);
        x = K.slice(f, a, n - 1 - s, Math.max(n - 1 - s, n - 1 - e), -step);
      }
    });
    return x;
  },
  Gather: (c) => {
    const x = c.input(0), idx = c.input(1);
    const axis = norm(c, c.int('axis', 0), x.ndim);
    const n = x.shape[axis]!;
    const flat = Array.from(idx.dataSync(), (v) => (Number(v) < 0 ? Number(v) + n : Number(v)));
    const picked = K.indexSelect(x, axis, int32(flat.length ? flat : [], [flat.length]));
    return K.reshape(picked, [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)]);
  },
  GatherElements: (c) => K.gather(c.input(0), c.int('axis', 0), c.input(1)),
  Pad: (c) => {
    const x = c.input(0);
    const mode = c.string('mode', 'constant');
    if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') throw c.error(`pad mode '${mode}' is not supported`);
    let pads = c.optionalInput(1) ? c.ints(1) : c.intList('pads');
    const axes = c.optionalInput(3) ? c.ints(3).map((a) => norm(c, a, x.ndim)) : x.shape.map((_, i) => i);
    const full = new Array<number>(2 * x.ndim).fill(0);
    axes.forEach((a, i) => { full[a] = pads[i]!; full[x.ndim + a] = pads[axes.length + i]!; });
    pads = full;
    const value = c.optionalInput(2) ? c.input(2).item() : 0;
    // Kiln's pad lists (before, after) pairs from the last dim backwards, like PyTorch.
    const torchPads: number[] = [];
    for (let d = x.ndim - 1; d >= 0; d--) torchPads.push(pads[d]!, pads[x.ndim + d]!);
    return K.pad(x, torchPads, mode === 'edge' ? 'replicate' : (mode as K.PadMode), value);
  },
  ReduceMean: reduce('mean'), ReduceSum: reduce('sum'), ReduceMax: reduce('max'), ReduceMin: reduce('min'), ReduceProd: reduce('prod'),
  ArgMax: (c) => K.argmax(c.input(0), c.int('axis', 0), c.int('keepdims', 1) === 1),
  ArgMin: (c) => K.argmin(c.input(0), c.int('axis', 0), c.int('keepdims', 1) === 1),
  Shape: (c) => {
    const x = c.input(0);
    let s = x.shape.slice(c.has('start') ? c.int('start') : 0);
    if (c.has('end')) s = x.shape.slice(c.has('start') ? c.int('start') : 0, c.int('end'));
    return int32([...s]);
  },
  Expand: (c) => {
    const x = c.input(0);
    const shape = c.ints(1);
    const out = K.broadcastShapes('Expand', x.shape, shape);
    return K.expand(x, out);
  },
  Cast: (c) => {
    const to = c.int('to');
    const dtype = DTYPE[to];
    if (!dtype) throw c.error(`Cast to ONNX data type ${to} is not supported`);
    return c.input(0).to(dtype);
  },
  Constant: (c) => {
    const t = c.tensorAttr('value');
    if (t) return t;
    if (c.has('value_float')) return new Tensor(Float32Array.of(c.float('value_float', 0)), [], 'float32');
    if (c.has('value_int')) return int32([c.int('value_int')], []);
    if (c.has('value_floats')) throw c.error('value_floats is not supported');
    if (c.has('value_ints')) return int32(c.intList('value_ints'));
    throw c.error('Constant has no supported value attribute');
  },
};
