/**
 * Resampling of the spatial dims (`interpolate`, alias `upsample`), with PyTorch's index
 * formulas. Both modes are separable, so the op resamples one spatial dim at a time, last dim
 * first (which also reproduces PyTorch's order of operations for bilinear):
 * - nearest: out[o] = in[min(floor(o·scale), in−1)], scale = in/out or 1/scaleFactor computed in
 *   float32 as PyTorch does (its special cases out = in and out = 2·in included);
 * - linear: src = scale·o with alignCorners, else max(0, scale·(o+½) − ½); the output mixes
 *   in[floor(src)] and its right neighbour with weights 1−λ, λ.
 * Each dim is an indexSelect (or two, weighted) and its gradient an indexAdd.
 *
 * Traced as `interpolate` with attributes `mode` ('nearest' | 'linear'), `alignCorners`,
 * `outputSize` (spatial sizes) and `scales` (the scale factors the formulas used, or null when
 * they were derived from the sizes).
 */
import { kernels } from '../backend.js';
import { allocate } from '../dtype.js';
import { formatShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkTensor, empty, finish } from './core.js';
import { asDType, expandArg, floatDType, type Float, type SpatialArg } from './spatial.js';
import { checkOptions } from '../options.js';

export type InterpolateMode = 'nearest' | 'linear' | 'bilinear' | 'trilinear';

export interface InterpolateOptions {
  /** Output spatial size (exactly one of size and scaleFactor). */
  size?: SpatialArg;
  /** Multiplier of the spatial sizes; output = floor(in · scaleFactor). */
  scaleFactor?: number | readonly number[];
  /** Default 'nearest'; 'linear' / 'bilinear' / 'trilinear' need 3-d / 4-d / 5-d inputs. */
  mode?: InterpolateMode;
  /** Linear modes: map corner pixel centres onto each other (default false). */
  alignCorners?: boolean;
  /** Derive the scale from the sizes even when scaleFactor is given (default false). */
  recomputeScaleFactor?: boolean;
}

/** How one spatial dim is resampled. */
type DimPlan =
  | { kind: 'identity' }
  | { kind: 'nearest'; index: Int32Array }
  | { kind: 'linear'; i0: Int32Array; i1: Int32Array; l0: Float; l1: Float };

function nearestPlan(inLen: number, outLen: number, scaleFactor: number | null): DimPlan {
  if (outLen === inLen) return { kind: 'identity' };
  const index = new Int32Array(outLen);
  if (outLen === 2 * inLen) {
    for (let o = 0; o < outLen; o++) index[o] = o >> 1;
    return { kind: 'nearest', index };
  }
  // PyTorch computes the scale and the product in float32.
  const scale = Math.fround(scaleFactor !== null ? 1 / scaleFactor : inLen / outLen);
  for (let o = 0; o < outLen; o++) index[o] = Math.min(Math.floor(Math.fround(o * scale)), inLen - 1);
  return { kind: 'nearest', index };
}

function linearPlan(inLen: number, outLen: number, scaleFactor: number | null, alignCorners: boolean, dtype: 'float32' | 'float64'): DimPlan {
  if (outLen === inLen && !alignCorners) return { kind: 'identity' };
  const scale = alignCorners ? (outLen > 1 ? (inLen - 1) / (outLen - 1) : 0) : scaleFactor !== null ? 1 / scaleFactor : inLen / outLen;
  const i0 = new Int32Array(outLen);
  const i1 = new Int32Array(outLen);
  const l0 = allocate(dtype, outLen) as Float;
  const l1 = allocate(dtype, outLen) as Float;
  for (let o = 0; o < outLen; o++) {
    const src = alignCorners ? scale * o : Math.max(0, scale * (o + 0.5) - 0.5);
    const lo = Math.min(Math.floor(src), inLen - 1);
    const lambda = Math.min(Math.max(src - lo, 0), 1);
    i0[o] = lo;
    i1[o] = lo < inLen - 1 ? lo + 1 : lo;
    l1[o] = lambda;
    l0[o] = 1 - lambda;
  }
  return { kind: 'linear', i0, i1, l0, l1 };
}

/** Resamples dim 1 of x `[p, inLen, q]` into out `[p, outLen, q]`. */
function resampleDim(plan: DimPlan, x: Float, p: number, inLen: number, q: number, outLen: number, out: Float): void {
  const k = kernels();
  const shape = [p, inLen, q];
  const outShape = [p, outLen, q];
  if (plan.kind === 'identity') {
    out.set(x);
  } else if (plan.kind === 'nearest') {
    k.indexSelect(x, shape, 1, plan.index, out);
  } else {
    const other = x instanceof Float64Array ? new Float64Array(out.length) : new Float32Array(out.length);
    k.indexSelect(x, shape, 1, plan.i0, out);
    k.indexSelect(x, shape, 1, plan.i1, other);
    k.binary('mul', out, outShape, plan.l0, [1, outLen, 1], out, outShape);
    k.binary('mul', other, outShape, plan.l1, [1, outLen, 1], other, outShape);
    k.binary('add', out, outShape, other, outShape, out, outShape);
  }
}

/** The adjoint of resampleDim: gx `[p, inLen, q]` (zeroed) += resampleᵀ(g `[p, outLen, q]`). */
function resampleDimBackward(plan: DimPlan, g: Float, p: number, inLen: number, q: number, outLen: number, gx: Float): void {
  const k = kernels();
  const shape = [p, inLen, q];
  const outShape = [p, outLen, q];
  if (plan.kind === 'identity') {
    gx.set(g);
  } else if (plan.kind === 'nearest') {
    k.indexAdd(gx, shape, 1, plan.index, g);
  } else {
    const tmp = g instanceof Float64Array ? new Float64Array(g.length) : new Float32Array(g.length);
    k.binary('mul', g, outShape, plan.l0, [1, outLen, 1], tmp, outShape);
    k.indexAdd(gx, shape, 1, plan.i0, tmp);
    k.binary('mul', g, outShape, plan.l1, [1, outLen, 1], tmp, outShape);
    k.indexAdd(gx, shape, 1, plan.i1, tmp);
  }
}

const LINEAR_RANK: Partial<Record<InterpolateMode, number>> = { linear: 3, bilinear: 4, trilinear: 5 };

/**
 * Resizes the spatial dims of `[N, C, ...spatial]` (1–3 spatial dims) to `size` or by
 * `scaleFactor`, by nearest-neighbour or (bi/tri)linear interpolation, as torch's
 * `F.interpolate`.
 */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const op = 'interpolate';
  checkTensor(op, 'input', input);
  if (options === undefined) throw new Error(`Kiln: ${op}: options with size or scaleFactor are required`);
  checkOptions(op, options, {
    size: 'spatial', mode: 'string', alignCorners: 'boolean', recomputeScaleFactor: 'boolean',
    scaleFactor: (v) => (typeof v === 'number' || (Array.isArray(v) && v.every((e) => typeof e === 'number')) ? null : 'a number or an array of numbers'),
  });
  const mode = options.mode ?? 'nearest';
  if (mode !== 'nearest' && LINEAR_RANK[mode] === undefined) {
    throw new Error(`Kiln: ${op}: unknown mode '${mode}' (expected 'nearest', 'linear', 'bilinear' or 'trilinear')`);
  }
  if (input.ndim < 3 || input.ndim > 5) {
    throw new Error(`Kiln: ${op}: expected a 3-d, 4-d or 5-d input [N, C, ...spatial], got shape ${formatShape(input.shape)}`);
  }
  const linear = mode !== 'nearest';
  if (linear && input.ndim !== LINEAR_RANK[mode]) {
    throw new Error(`Kiln: ${op}: mode '${mode}' needs a ${LINEAR_RANK[mode]}-d input, got shape ${formatShape(input.shape)}`);
  }
  if (!linear && options.alignCorners !== undefined) {
    throw new Error(`Kiln: ${op}: alignCorners only applies to the linear modes, not '${mode}'`);
  }
  const alignCorners = options.alignCorners ?? false;
  const dtype = floatDType(op, [input]);
  const n = input.ndim - 2;
  const inSize = input.shape.slice(2);
  let outSize: number[];
  let scales: Array<number | null>;
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new Error(`Kiln: ${op}: give exactly one of size and scaleFactor`);
  }
  if (options.size !== undefined) {
    outSize = expandArg(op, 'size', options.size, n, 1);
    scales = new Array<number | null>(n).fill(null);
  } else {
    const sf = options.scaleFactor!;
    const factors = typeof sf === 'number' ? new Array<number>(n).fill(sf) : [...sf];
    if (factors.length !== n || factors.some((f) => !(f > 0) || !Number.isFinite(f))) {
      throw new Error(`Kiln: ${op}: scaleFactor must be a positive number or a list of ${n}, got ${typeof sf === 'number' ? sf : formatShape(sf)}`);
    }
    outSize = inSize.map((s, i) => Math.floor(s * factors[i]!));
    if (outSize.some((o) => o < 1)) {
      throw new Error(`Kiln: ${op}: scaleFactor ${formatShape(factors)} gives an empty output ${formatShape(outSize)} for input ${formatShape(input.shape)}`);
    }
    scales = options.recomputeScaleFactor ? new Array<number | null>(n).fill(null) : factors;
  }
  if (inSize.some((s) => s === 0)) throw new Error(`Kiln: ${op}: input has an empty spatial dim: ${formatShape(input.shape)}`);

  const plans = inSize.map((s, i) =>
    linear ? linearPlan(s, outSize[i]!, scales[i]!, alignCorners, dtype) : nearestPlan(s, outSize[i]!, scales[i]!),
  );
  // Shapes before each step; steps run over the spatial dims from last to first.
  const lead = input.shape.slice(0, 2);
  const steps: Array<{ d: number; shape: number[] }> = [];
  let shape = [...input.shape];
  let cur = asDType(input, dtype)._data as Float;
  for (let d = n - 1; d >= 0; d--) {
    if (plans[d]!.kind === 'identity') continue;
    const next = [...shape];
    next[2 + d] = outSize[d]!;
    const y = allocate(dtype, sizeOf(next)) as Float;
    resampleDim(plans[d]!, cur, sizeOf(shape.slice(0, 2 + d)), shape[2 + d]!, sizeOf(shape.slice(3 + d)), outSize[d]!, y);
    steps.push({ d, shape });
    shape = next;
    cur = y;
  }
  const out = steps.length === 0 ? empty([...lead, ...outSize], dtype) : new Tensor(cur, [...lead, ...outSize], dtype);
  if (steps.length === 0) out._data.set(cur);
  const attrs = { mode: linear ? 'linear' : 'nearest', alignCorners, outputSize: outSize, scales };
  return finish(out, op, [input], attrs, (grad) => {
    let g = asDType(grad, dtype)._data as Float;
    for (let s = steps.length - 1; s >= 0; s--) {
      const { d, shape: before } = steps[s]!;
      const gx = allocate(dtype, sizeOf(before)) as Float;
      resampleDimBackward(plans[d]!, g, sizeOf(before.slice(0, 2 + d)), before[2 + d]!, sizeOf(before.slice(3 + d)), outSize[d]!, gx);
      g = gx;
    }
    return [new Tensor(steps.length === 0 ? g.slice() : g, input.shape, dtype)];
  });
}

/** Alias of {@link interpolate} (torch's `F.upsample` / `nn.Upsample`). */
export const upsample = interpolate;
