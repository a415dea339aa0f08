/**
 * Convolutions, written once for 1–3 spatial dims.
 *
 * The arithmetic is three backend kernels (convForward, convBackwardInput, convBackwardWeight;
 * the reference composes them from im2col and GEMM); the bias gradient is summed here.
 * The transposed convolution is the adjoint of convolution, so it reuses the same three
 * kernels with their roles swapped.
 *
 * Traced as `conv` / `convTranspose` with ONNX-shaped attributes: `kernelShape`, `strides`,
 * `pads` (all begins, then all ends, per spatial dim), `dilations`, `group` (and
 * `outputPadding` for the transpose).
 */
import { isGradEnabled } from '../autograd.js';
import { kernels, type WindowGeometry } from '../backend.js';
import { isTracing } from '../trace.js';
import { formatShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, empty, finish, uninitialized, viewOf } from './core.js';
import { checkOptions, type OptionKind } from '../options.js';
import {
  asDType, checkOutSize, convOutSize, expandArg, floatDType, geometry, spatialInput, type Float, type SpatialArg,
} from './spatial.js';

/** Padding of a convolution: per-dim amounts on both sides, `'valid'` (none) or `'same'` (stride 1 only). */
export type ConvPadding = SpatialArg | 'same' | 'valid';

export interface ConvOptions {
  /** Step of the window (default 1). */
  stride?: SpatialArg;
  /** Zeros added on both sides of each spatial dim (default 0), or 'same' / 'valid'. */
  padding?: ConvPadding;
  /** Spacing between kernel taps (default 1). */
  dilation?: SpatialArg;
  /** Channel groups: in/out channels are split into `groups` independent convolutions (default 1). */
  groups?: number;
  /**
   * Clamps the output into [min, max] inside the convolution kernel: a ReLU (`[0, Infinity]`) or
   * ReLU6 (`[0, 6]`) fused for inference, saving the activation's pass and array. Neither
   * differentiated nor traced, so only allowed where no gradient is recorded and no trace runs
   * (`fuseConvBn` of @kiln/nn uses it under `noGrad`).
   */
  outputClamp?: readonly [number, number];
}

export interface ConvTransposeOptions {
  stride?: SpatialArg;
  /** The padding of the convolution this is the adjoint of: crops this much from both sides of the output (default 0). */
  padding?: SpatialArg;
  /** Extra size added to one side of the output (each must be smaller than stride or dilation). */
  outputPadding?: SpatialArg;
  dilation?: SpatialArg;
  groups?: number;
}

function checkGroups(op: string, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`Kiln: ${op}: groups must be a positive integer, got ${groups}`);
}

function checkBias(op: string, bias: Tensor | null | undefined, channels: number): void {
  if (bias == null) return;
  checkTensor(op, 'bias', bias);
  if (bias.ndim !== 1 || bias.shape[0] !== channels) {
    throw new Error(`Kiln: ${op}: bias must have shape [${channels}] (one per output channel), got ${formatShape(bias.shape)}`);
  }
}

function checkWeight(op: string, weight: Tensor, n: number, layout: string): number[] {
  checkTensor(op, 'weight', weight);
  if (weight.ndim !== n + 2) {
    throw new Error(`Kiln: ${op}: weight must be ${n + 2}-d ${layout}, got shape ${formatShape(weight.shape)}`);
  }
  const kernel = weight.shape.slice(2);
  if (kernel.some((k) => k < 1)) throw new Error(`Kiln: ${op}: weight has an empty kernel: ${formatShape(weight.shape)}`);
  return kernel;
}

/** Adds bias[c] to every element of channel c of `out` `[N, C, ...]`, in place. */
function addBias(out: Tensor, b: Tensor): void {
  const shape = [out.shape[0]!, out.shape[1]!, sizeOf(out.shape.slice(2))];
  kernels().binary('add', out._data, shape, b._data, [1, shape[1]!, 1], out._data, shape);
}

/** Σ over batch and spatial dims of dy `[N, C, ...]`, as `[C]`. */
function biasGrad(dy: Tensor): Tensor {
  const c = dy.shape[1]!;
  const db = empty([c], dy.dtype);
  kernels().reduce('sum', dy._data, [dy.shape[0]!, c, sizeOf(dy.shape.slice(2))], [0, 2], db._data);
  return db;
}

const CLAMP_KIND: OptionKind = (v) => (Array.isArray(v) && v.length === 2 && v.every((b) => typeof b === 'number' && !Number.isNaN(b)) && v[0] <= v[1]
  ? null : 'two numbers [min, max] with min <= max');

const PADDING_KIND: OptionKind = (v) => (v === 'same' || v === 'valid' || Number.isInteger(v) || (Array.isArray(v) && v.every(Number.isInteger)) ? null : "'same', 'valid', or a non-negative integer or an array of them");

function convNd(op: string, n: number, input: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvOptions): Tensor {
  checkOptions(op, options, { stride: 'spatial', padding: PADDING_KIND, dilation: 'spatial', groups: 'posint', outputClamp: CLAMP_KIND });
  const { x: xb, batched } = spatialInput(op, input, n);
  const kernel = checkWeight(op, weight, n, '[out_channels, in_channels/groups, ...kernel]');
  const clamp = options.outputClamp ?? null;
  if (clamp && (isTracing() || (isGradEnabled() && [input, weight, bias].some((t) => t?.requiresGrad)))) {
    throw new Error(`Kiln: ${op}: outputClamp is an inference fusion and has no gradient or ONNX form: use it under noGrad() and outside a trace, or apply clamp() after the convolution`);
  }
  const groups = options.groups ?? 1;
  checkGroups(op, groups);
  const [cOut, cInG] = weight.shape as [number, number];
  const cIn = xb.shape[1]!;
  if (cOut % groups !== 0) {
    throw new Error(`Kiln: ${op}: out_channels ${cOut} (weight ${formatShape(weight.shape)}) is not divisible by groups=${groups}`);
  }
  if (cIn !== cInG * groups) {
    throw new Error(`Kiln: ${op}: input has ${cIn} channels but weight expects ${cInG * groups} (groups=${groups}); input ${formatShape(input.shape)}, weight ${formatShape(weight.shape)}`);
  }
  checkBias(op, bias, cOut);
  const dtype = floatDType(op, [input, weight, bias]);
  const stride = expandArg(op, 'stride', options.stride ?? 1, n, 1);
  const dilation = expandArg(op, 'dilation', options.dilation ?? 1, n, 1);
  const padding = options.padding ?? 0;
  let padBegin: number[];
  let padEnd: number[];
  if (padding === 'valid') {
    padBegin = new Array<number>(n).fill(0);
    padEnd = padBegin;
  } else if (padding === 'same') {
    if (stride.some((s) => s !== 1)) {
      throw new Error(`Kiln: ${op}: padding='same' needs stride 1, got stride ${formatShape(stride)}`);
    }
    // PyTorch's rule: the odd pixel of an even total goes to the end.
    const total = kernel.map((k, i) => dilation[i]! * (k - 1));
    padBegin = total.map((t) => Math.floor(t / 2));
    padEnd = total.map((t, i) => t - padBegin[i]!);
  } else if (typeof padding === 'string') {
    throw new Error(`Kiln: ${op}: padding must be a number, a list, 'same' or 'valid', got '${padding}'`);
  } else {
    padBegin = expandArg(op, 'padding', padding, n, 0);
    padEnd = padBegin;
  }
  const inSize = xb.shape.slice(2);
  const outSize = inSize.map((s, i) => convOutSize(s, kernel[i]!, stride[i]!, padBegin[i]!, padEnd[i]!, dilation[i]!));
  checkOutSize(op, input, kernel.map((k, i) => dilation[i]! * (k - 1) + 1), inSize.map((s, i) => s + padBegin[i]! + padEnd[i]!), outSize);

  const xIn = asDType(input, dtype);
  const x = batched ? xIn : viewOf(xIn, xb.shape);
  const w = asDType(weight, dtype);
  const b = bias == null ? null : asDType(bias, dtype);
  const g = geometry(x, kernel, stride, padBegin, padEnd, dilation, outSize);
  // convForward writes every element of out: no zeroed buffer needed.
  const out = uninitialized([x.shape[0]!, cOut, ...outSize], dtype);
  kernels().convForward(x._data as Float, w._data as Float, b ? (b._data as Float) : null, g, cOut, groups, out._data as Float, clamp);
  const attrs = { kernelShape: kernel, strides: stride, pads: [...padBegin, ...padEnd], dilations: dilation, group: groups };
  return finish(batched ? out : viewOf(out, out.shape.slice(1)), 'conv', b ? [xIn, w, b] : [xIn, w], attrs, (grad) => {
    const dy = viewOf(asDType(grad, dtype), out.shape);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (xIn.requiresGrad) {
      dx = empty(x.shape, dtype);
      kernels().convBackwardInput(dy._data as Float, w._data as Float, g, cOut, groups, dx._data as Float);
      dx = viewOf(dx, xIn.shape);
    }
    let db: Tensor | null = null;
    if (w.requiresGrad) {
      // A parameter's gradient slot when it has one (resident in Wasm memory, reused from step
      // to step): the kernel overwrites it in place (no zeroing pass) and no copy follows.
      dw = w._gradTarget() ?? uninitialized(w.shape, dtype);
      // The bias gradient comes out of the same pass over dy.
      if (b?.requiresGrad) db = empty([cOut], dtype);
      kernels().convBackwardWeight(x._data as Float, dy._data as Float, g, cOut, groups, dw._data as Float, db ? (db._data as Float) : null);
    }
    return [dx, dw, b?.requiresGrad ? db ?? biasGrad(dy) : null];
  });
}

function convTransposeNd(op: string, n: number, input: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvTransposeOptions): Tensor {
  checkOptions(op, options, { stride: 'spatial', padding: 'spatial', outputPadding: 'spatial', dilation: 'spatial', groups: 'posint' });
  const { x: xb, batched } = spatialInput(op, input, n);
  const kernel = checkWeight(op, weight, n, '[in_channels, out_channels/groups, ...kernel]');
  const groups = options.groups ?? 1;
  checkGroups(op, groups);
  const [wIn, cOutG] = weight.shape as [number, number];
  const cIn = xb.shape[1]!;
  if (cIn !== wIn) {
    throw new Error(`Kiln: ${op}: input has ${cIn} channels but weight expects ${wIn} (weight ${formatShape(weight.shape)} is [in_channels, out_channels/groups, ...kernel])`);
  }
  if (cIn % groups !== 0) throw new Error(`Kiln: ${op}: in_channels ${cIn} is not divisible by groups=${groups}`);
  const cOut = cOutG * groups;
  checkBias(op, bias, cOut);
  const dtype = floatDType(op, [input, weight, bias]);
  const stride = expandArg(op, 'stride', options.stride ?? 1, n, 1);
  const dilation = expandArg(op, 'dilation', options.dilation ?? 1, n, 1);
  const pad = expandArg(op, 'padding', options.padding ?? 0, n, 0);
  const outputPadding = expandArg(op, 'outputPadding', options.outputPadding ?? 0, n, 0);
  outputPadding.forEach((p, i) => {
    if (p >= stride[i]! && p >= dilation[i]!) {
      throw new Error(`Kiln: ${op}: outputPadding ${formatShape(outputPadding)} must be smaller than either stride ${formatShape(stride)} or dilation ${formatShape(dilation)}`);
    }
  });
  const inSize = xb.shape.slice(2);
  const outSize = inSize.map((s, i) => (s - 1) * stride[i]! - 2 * pad[i]! + dilation[i]! * (kernel[i]! - 1) + outputPadding[i]! + 1);
  if (outSize.some((o) => o < 1)) {
    throw new Error(`Kiln: ${op}: padding ${formatShape(pad)} leaves an empty output ${formatShape(outSize)} for input ${formatShape(input.shape)}`);
  }

  const xIn = asDType(input, dtype);
  const x = batched ? xIn : viewOf(xIn, xb.shape);
  const w = asDType(weight, dtype);
  const b = bias == null ? null : asDType(bias, dtype);
  const N = x.shape[0]!;
  const out = empty([N, cOut, ...outSize], dtype);
  // The convolution whose input gradient this is: from `out` (cOut channels) to `x` (cIn).
  const g: WindowGeometry = {
    batch: N, channels: cOut, inSize: outSize, kernel, stride, padBegin: pad, padEnd: pad, dilation, outSize: inSize,
  };
  kernels().convBackwardInput(x._data as Float, w._data as Float, g, cIn, groups, out._data as Float);
  if (b) addBias(out, b);
  const attrs = {
    kernelShape: kernel, strides: stride, pads: [...pad, ...pad], outputPadding, dilations: dilation, group: groups,
  };
  return finish(batched ? out : viewOf(out, out.shape.slice(1)), 'convTranspose', b ? [xIn, w, b] : [xIn, w], attrs, (grad) => {
    const dy = viewOf(asDType(grad, dtype), out.shape);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (xIn.requiresGrad) {
      dx = uninitialized(x.shape, dtype);
      kernels().convForward(dy._data as Float, w._data as Float, null, g, cIn, groups, dx._data as Float);
      dx = viewOf(dx, xIn.shape);
    }
    if (w.requiresGrad) {
      dw = uninitialized(w.shape, dtype); // overwritten by the kernel
      kernels().convBackwardWeight(dy._data as Float, x._data as Float, g, cIn, groups, dw._data as Float);
    }
    return [dx, dw, b?.requiresGrad ? biasGrad(dy) : null];
  });
}

/** 1-D convolution (cross-correlation, as in PyTorch) of `[N, C, L]` with weight `[Cout, C/groups, k]`. */
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvOptions = {}): Tensor {
  return convNd('conv1d', 1, input, weight, bias, options);
}

/** 2-D convolution of `[N, C, H, W]` with weight `[Cout, C/groups, kH, kW]`. */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvOptions = {}): Tensor {
  return convNd('conv2d', 2, input, weight, bias, options);
}

/** 3-D convolution of `[N, C, D, H, W]` with weight `[Cout, C/groups, kD, kH, kW]`. */
export function conv3d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvOptions = {}): Tensor {
  return convNd('conv3d', 3, input, weight, bias, options);
}

/** 1-D transposed convolution of `[N, Cin, L]` with weight `[Cin, Cout/groups, k]`. */
export function convTranspose1d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTransposeOptions = {}): Tensor {
  return convTransposeNd('convTranspose1d', 1, input, weight, bias, options);
}

/**
 * 2-D transposed convolution (the adjoint of conv2d, a.k.a. "deconvolution") of `[N, Cin, H, W]`
 * with weight `[Cin, Cout/groups, kH, kW]`; output size per dim is
 * `(in−1)·stride − 2·padding + dilation·(k−1) + outputPadding + 1`.
 */
export function convTranspose2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTransposeOptions = {}): Tensor {
  return convTransposeNd('convTranspose2d', 2, input, weight, bias, options);
}

/** 3-D transposed convolution of `[N, Cin, D, H, W]` with weight `[Cin, Cout/groups, kD, kH, kW]`. */
export function convTranspose3d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTransposeOptions = {}): Tensor {
  return convTransposeNd('convTranspose3d', 3, input, weight, bias, options);
}
