/** Shape, movement, indexing, reduction and type ops. */
import * as K from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import type { NodeContext, OpHandler } from '../context.js';
import { roundTo16 } from './math.js';

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

/** ArgMax/ArgMin; select_last_index=1 picks the last of equal extremes (flip, reduce, mirror the index). */
function argReduce(f: (x: Tensor, dim: number, keep: boolean) => Tensor): OpHandler {
  return (c) => {
    const x = c.input(0);
    const axis = norm(c, c.int('axis', 0), x.ndim);
    const keep = c.int('keepdims', 1) === 1;
    if (!c.int('select_last_index', 0)) return f(x, axis, keep);
    const i = f(K.flip(x, [axis]), axis, keep);
    return K.fullLike(i, x.shape[axis]! - 1).sub(i);
  };
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

/** ONNX data type → the Kiln dtype that holds it (integers as int32; 16-bit floats as float32, rounded). */
const DTYPE: Record<number, K.DType> = {
  1: 'float32', 11: 'float64', 6: 'int32', 7: 'int32', 9: 'bool', 2: 'int32', 3: 'int32', 4: 'int32', 5: 'int32', 12: 'int32', 13: 'int32',
  10: 'float32', 16: 'float32',
};
/** Opsets < 6 name Cast's target type as a string. */
const DTYPE_NAMES: Record<string, number> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
};

export const shapeOps: Record<string, OpHandler> = {
  Reshape: (c) => {
    const x = c.input(0);
    const shape = c.opset < 5 ? c.intList('shape') : c.ints(1);
    // 0 copies the input's dim, unless allowzero=1 (opset 14+), where it is a literal 0.
    const allowZero = c.int('allowzero', 0) === 1;
    if (allowZero && shape.includes(0) && shape.includes(-1)) throw c.error(`shape [${shape.join(', ')}] has both 0 and -1 with allowzero=1`);
    const target = shape.map((d, i) => {
      if (d !== 0 || allowZero) return d;
      if (i >= x.ndim) throw c.error(`shape [${shape.join(', ')}] copies dim ${i} (0) but the input has rank ${x.ndim}`);
      return x.shape[i]!;
    });
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
    if (ts.length === 0) throw c.error('needs at least one input');
    return K.cat(ts, norm(c, c.opset < 4 ? c.int('axis', 1) : c.int('axis'), ts[0]!.ndim));
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
    // Opsets 1–9: starts/ends/axes are attributes.
    const old = c.opset < 10;
    const starts = old ? c.intList('starts') : c.ints(1), ends = old ? c.intList('ends') : c.ints(2);
    const axes = old ? c.intList('axes', starts.map((_, i) => i)) : c.optionalInput(3) ? c.ints(3) : starts.map((_, i) => i);
    const steps = !old && c.optionalInput(4) ? c.ints(4) : starts.map(() => 1);
    if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
      throw c.error(`starts/ends/axes/steps have different lengths (${starts.length}, ${ends.length}, ${axes.length}, ${steps.length})`);
    }
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
  GatherElements: (c) => {
    const x = c.input(0), idx = c.input(1);
    const axis = norm(c, c.int('axis', 0), x.ndim);
    const n = x.shape[axis]!;
    const src = idx.dataSync();
    // Negative indices count from the end of the axis.
    const fixed = Int32Array.from(src, (v) => (Number(v) < 0 ? Number(v) + n : Number(v)));
    return K.gather(x, axis, new Tensor(fixed, idx.shape, 'int32'));
  },
  Pad: (c) => {
    const x = c.input(0);
    const mode = c.string('mode', 'constant');
    if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') throw c.error(`pad mode '${mode}' is not supported`);
    // Opsets < 11: pads (opset 1: paddings) and value are attributes.
    let pads = c.opset < 11 ? c.intList(c.opset < 2 && c.has('paddings') ? 'paddings' : 'pads') : c.ints(1);
    const axes = c.optionalInput(3) ? c.ints(3).map((a) => norm(c, a, x.ndim)) : x.shape.map((_, i) => i);
    if (pads.length !== 2 * axes.length || pads.some((p) => !Number.isInteger(p))) {
      throw c.error(`pads [${pads.join(', ')}] must be ${2 * axes.length} integers (begin and end for each of ${axes.length} axes)`);
    }
    const full = new Array<number>(2 * x.ndim).fill(0);
    axes.forEach((a, i) => { full[a] = pads[i]!; full[x.ndim + a] = pads[axes.length + i]!; });
    pads = full;
    const value = c.opset < 11 ? c.float('value', 0) : c.optionalInput(2) ? c.input(2).item() : 0;
    // Kiln's pad lists (before, after) pairs from the last dim backwards, like PyTorch.
    const torchPads: number[] = [];
    for (let d = x.ndim - 1; d >= 0; d--) torchPads.push(pads[d]!, pads[x.ndim + d]!);
    c.checkSize(x.shape.map((n, d) => n + pads[d]! + pads[x.ndim + d]!), 'padded shape');
    return K.pad(x, torchPads, mode === 'edge' ? 'replicate' : (mode as K.PadMode), value);
  },
  ReduceMean: reduce('mean'), ReduceSum: reduce('sum'), ReduceMax: reduce('max'), ReduceMin: reduce('min'), ReduceProd: reduce('prod'),
  ArgMax: argReduce(K.argmax),
  ArgMin: argReduce(K.argmin),
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
    c.checkSize(out, 'output shape');
    return K.expand(x, out);
  },
  Cast: (c) => {
    const to = c.has('to') && typeof c.attrValue('to') === 'string' ? DTYPE_NAMES[c.string('to', '')] ?? -1 : c.int('to');
    const dtype = DTYPE[to];
    if (!dtype) throw c.error(`Cast to ONNX data type ${to} is not supported (Kiln has no string tensors)`);
    const y = c.input(0).to(dtype);
    return to === 10 ? roundTo16(y, 'float16') : to === 16 ? roundTo16(y, 'bfloat16') : y;
  },
  Constant: (c) => {
    const t = c.tensorAttr('value');
    if (t) return t;
    if (c.has('value_float')) return new Tensor(Float32Array.of(c.float('value_float', 0)), [], 'float32');
    if (c.has('value_int')) return int32([c.int('value_int')], []);
    if (c.has('value_floats')) return new Tensor(Float32Array.from(c.floatList('value_floats')), [c.floatList('value_floats').length], 'float32');
    if (c.has('value_ints')) return int32(c.intList('value_ints'));
    throw c.error('Constant has no supported value attribute');
  },
};
