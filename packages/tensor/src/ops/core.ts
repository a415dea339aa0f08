/** What every op shares: recording on the tape and the trace, scalar operands, un-broadcasting. */
import { isGradEnabled, versionOf, type GradNode } from '../autograd.js';
import { kernels } from '../backend.js';
import { allocate, allocateUninit, promoteTypes, promoteWithScalar, type DType } from '../dtype.js';
import { formatShape, shapesEqual, sizeOf, type Shape } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { emit, type Attrs } from '../trace.js';
import { scopedFloat32 } from '../activations.js';

/**
 * Finishes an op: links `out` into the tape when an input requires grad (and recording is on),
 * then reports the op to the tracer.
 */
export function finish(
  out: Tensor,
  op: string,
  inputs: readonly Tensor[],
  attrs: Attrs,
  backward?: GradNode['backward'],
): Tensor {
  if (backward && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out._node = { op, inputs, backward, versions: [...inputs.map((t) => versionOf(t._data)), versionOf(out._data)] };
  }
  emit(op, inputs, [out], attrs);
  return out;
}

/** A zero-filled output (in the backend's memory during a backward pass, see activations.ts). */
export function empty(shape: Shape, dtype: DType): Tensor {
  const size = sizeOf(shape);
  const data = dtype === 'float32' ? scopedFloat32(size, true) : null;
  return new Tensor(data ?? allocate(dtype, size), shape, dtype);
}

/** Like `empty` without the zero-fill: only for outputs the kernel then writes in full. */
export function uninitialized(shape: Shape, dtype: DType): Tensor {
  const size = sizeOf(shape);
  const data = dtype === 'float32' ? scopedFloat32(size, false) : null;
  return new Tensor(data ?? allocateUninit(dtype, size), shape, dtype);
}

/** A 0-d tensor holding `value`. */
export function scalarTensor(value: number, dtype: DType): Tensor {
  const t = empty([], dtype);
  t._data[0] = dtype === 'bool' ? (value ? 1 : 0) : value;
  return t;
}

/** The dtype two operands combine into (see dtype.ts for the rules). */
export function resultType(a: TensorLike, b: TensorLike): DType {
  if (typeof a === 'number' && typeof b === 'number') return Number.isInteger(a) && Number.isInteger(b) ? 'int32' : 'float32';
  if (typeof a === 'number') return promoteWithScalar((b as Tensor).dtype, a);
  if (typeof b === 'number') return promoteWithScalar(a.dtype, b);
  return promoteTypes(a.dtype, b.dtype);
}

/** Makes a tensor of `dtype` out of an operand (scalars become 0-d tensors). */
export function operand(x: TensorLike, dtype: DType): Tensor {
  if (typeof x === 'number') return scalarTensor(x, dtype);
  return x.dtype === dtype ? x : x.to(dtype);
}

export function checkTensor(op: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    throw new Error(`Kiln: ${op}: ${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  }
}

/** Sums a broadcast gradient back down to `shape` (the adjoint of broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new Error(`Kiln: sumTo: cannot reduce ${formatShape(g.shape)} to ${formatShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const keptShape = g.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = empty(keptShape, g.dtype);
  if (axes.length === 0) out._data.set(g._data);
  else kernels().reduce('sum', g._data, g.shape, axes, out._data);
  return new Tensor(out._data, shape, g.dtype);
}

/** The same buffer under another shape, off the tape and the trace (for ops' internals). */
export function viewOf(t: Tensor, shape: Shape): Tensor {
  return new Tensor(t._data, shape, t.dtype);
}

/** `t` broadcast to `shape` as a new contiguous buffer, off the tape and the trace. */
export function broadcastData(t: Tensor, shape: Shape): Tensor {
  if (shapesEqual(t.shape, shape)) return t;
  const lead = shape.length - t.ndim;
  const strides: number[] = [];
  let s = 1;
  const own: number[] = new Array(t.ndim);
  for (let i = t.ndim - 1; i >= 0; i--) {
    own[i] = s;
    s *= t.shape[i]!;
  }
  for (let i = 0; i < shape.length; i++) {
    const d = i - lead;
    strides.push(d < 0 || (t.shape[d] === 1 && shape[i] !== 1) ? 0 : own[d]!);
  }
  const out = uninitialized(shape, t.dtype);
  kernels().stridedCopy(t._data, 0, shape, strides, out._data);
  return out;
}
