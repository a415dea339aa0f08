/**
 * Argument handling shared by the spatial ops (conv, pooling, interpolation): per-dim
 * arguments given as a number or a list, input rank and dtype checks, output-size rules, and
 * the window geometry handed to the kernels.
 */
import type { WindowGeometry } from '../backend.js';
import { isFloatingDType, promoteTypes } from '../dtype.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, viewOf } from './core.js';

export type Float = Float32Array | Float64Array;

/** A per-spatial-dim argument: one number for every dim, or one per dim. */
export type SpatialArg = number | readonly number[];

/**
 * Expands `value` to `n` integers, each ≥ `min`; throws naming the op and the argument.
 */
export function expandArg(op: string, name: string, value: SpatialArg, n: number, min: number): number[] {
  const list = typeof value === 'number' ? new Array<number>(n).fill(value) : [...value];
  if (list.length === 1 && n > 1) while (list.length < n) list.push(list[0]!);
  if (list.length !== n) {
    throw new Error(`Kiln: ${op}: ${name} must be a number or a list of ${n}, got ${formatShape(list)}`);
  }
  for (const v of list) {
    if (!Number.isInteger(v) || v < min) {
      const what = min === 1 ? 'positive integers' : min === 0 ? 'non-negative integers' : `integers ≥ ${min}`;
      throw new Error(`Kiln: ${op}: ${name} must be ${what}, got ${typeof value === 'number' ? value : formatShape(list)}`);
    }
  }
  return list;
}

/** An input with `n` spatial dims, batched `[N, C, ...]` or unbatched `[C, ...]` (as in PyTorch). */
export interface SpatialInput {
  /** The input seen as batched (a view when it was unbatched). */
  x: Tensor;
  batched: boolean;
}

export function spatialInput(op: string, x: Tensor, n: number): SpatialInput {
  checkTensor(op, 'input', x);
  if (x.ndim === n + 2) return { x, batched: true };
  if (x.ndim === n + 1) return { x: viewOf(x, [1, ...x.shape]), batched: false };
  const dims = n === 1 ? '[N, C, L]' : n === 2 ? '[N, C, H, W]' : '[N, C, D, H, W]';
  throw new Error(`Kiln: ${op}: expected a ${n + 2}-d input ${dims} (or ${n + 1}-d unbatched), got shape ${formatShape(x.shape)}`);
}

/** Checks every tensor is floating; returns their common dtype. */
export function floatDType(op: string, tensors: ReadonlyArray<Tensor | undefined | null>): 'float32' | 'float64' {
  let dtype: 'float32' | 'float64' | null = null;
  for (const t of tensors) {
    if (!t) continue;
    if (!isFloatingDType(t.dtype)) {
      throw new Error(`Kiln: ${op}: expected floating tensors, got ${tensors.filter(Boolean).map((u) => u!.dtype).join(', ')} (cast with .float())`);
    }
    dtype = dtype ? (promoteTypes(dtype, t.dtype) as 'float32' | 'float64') : (t.dtype as 'float32' | 'float64');
  }
  return dtype ?? 'float32';
}

/** `t` in `dtype` (a differentiable cast only when it differs). */
export function asDType(t: Tensor, dtype: 'float32' | 'float64'): Tensor {
  return t.dtype === dtype ? t : t.to(dtype);
}

/** floor((in + padBegin + padEnd − dilation·(k−1) − 1) / stride) + 1, the convolution rule. */
export function convOutSize(size: number, k: number, s: number, pb: number, pe: number, d: number): number {
  return Math.floor((size + pb + pe - d * (k - 1) - 1) / s) + 1;
}

/**
 * The pooling rule (PyTorch's): like convolution, rounding up in ceil mode, but the last
 * window must start inside the input or the left padding.
 */
export function poolOutSize(size: number, k: number, s: number, p: number, d: number, ceilMode: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = Math.floor((span + (ceilMode ? s - 1 : 0)) / s) + 1;
  if (ceilMode && (out - 1) * s >= size + p) out--;
  return out;
}

export function geometry(x: Tensor, kernel: number[], stride: number[], padBegin: number[], padEnd: number[], dilation: number[], outSize: number[]): WindowGeometry {
  return {
    batch: x.shape[0]!,
    channels: x.shape[1]!,
    inSize: x.shape.slice(2),
    kernel, stride, padBegin, padEnd, dilation, outSize,
  };
}

/** Throws when some output dim would be empty (the window does not fit the padded input). */
export function checkOutSize(op: string, x: Tensor, effKernel: number[], padded: number[], outSize: number[]): void {
  outSize.forEach((o, i) => {
    if (o < 1) {
      throw new Error(
        `Kiln: ${op}: kernel of effective size ${formatShape(effKernel)} is larger than the padded input ${formatShape(padded)} (input ${formatShape(x.shape)})`,
      );
    }
  });
}
