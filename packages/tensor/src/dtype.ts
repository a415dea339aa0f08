/**
 * Data types and type promotion.
 *
 * Promotion follows one chain, `bool < int32 < float32 < float64`: a binary op between two
 * tensors takes the larger of the two dtypes. A JavaScript number combined with a tensor takes
 * the tensor's dtype, except that a non-integer number lifts a bool/int32 tensor to float32 (as
 * in PyTorch, `intTensor * 0.5` is a float tensor). Division of integer tensors is true division
 * and gives float32. Comparisons give bool.
 *
 * Op by op: arithmetic (add, sub, mul, pow, maximum, minimum, where) returns the promoted dtype
 * (bool + bool stays bool); div and the transcendental unary ops (exp, log, sqrt, sin, tanh,
 * sigmoid, ...) return float32 for bool/int32 inputs and keep floating dtypes; neg, abs, relu,
 * square, clamp, floor/ceil/round keep the input dtype; comparisons and logical ops return bool.
 * sum and prod of bool count in int32; mean, var, std, softmax and logsumexp of integers give
 * float32. matmul needs floating operands. cat promotes all its inputs together. In-place ops
 * (add_, copy_, ...) cast the other operand to the target's dtype. Only float32 and float64
 * tensors can require gradients.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Every dtype, in promotion order. */
export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** True when `value` names a dtype. */
export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && value in RANK;
}

/** True for float32 and float64 (the dtypes that can require gradients). */
export function isFloatingDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** The dtype two tensors of dtypes `a` and `b` combine into. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype a tensor of `dtype` combined with the JavaScript number `value` gives. */
export function promoteWithScalar(dtype: DType, value: number): DType {
  if (isFloatingDType(dtype)) return dtype;
  if (!Number.isInteger(value)) return 'float32';
  return dtype === 'bool' ? 'int32' : dtype;
}

/** The floating dtype an op that always produces real numbers (exp, mean, div) returns. */
export function floatingOf(dtype: DType): DType {
  return isFloatingDType(dtype) ? dtype : 'float32';
}

/** A zero-filled typed array of `size` elements for `dtype`. */
export function allocate(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

/** Bytes from which allocateUninit skips the zero-fill (below, it costs less than the extra objects). */
const UNINIT_MIN_BYTES = 8192;

/**
 * A typed array whose values are unspecified, for outputs a kernel overwrites in full. Where
 * Node's Buffer exists (Node, Bun), large ones come from `Buffer.allocUnsafeSlow`: their own
 * ArrayBuffer of exactly this size (never a slice of a shared pool), not zero-filled. Elsewhere,
 * and for small sizes, it is `allocate` (zeroed).
 */
export function allocateUninit(dtype: DType, size: number): TypedArray {
  const bytes = dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
  const B = (globalThis as { Buffer?: { allocUnsafeSlow?: (n: number) => Uint8Array } }).Buffer;
  if (size * bytes < UNINIT_MIN_BYTES || typeof B?.allocUnsafeSlow !== 'function') return allocate(dtype, size);
  const buffer = B.allocUnsafeSlow(size * bytes).buffer as ArrayBuffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, size);
    case 'float64':
      return new Float64Array(buffer, 0, size);
    case 'int32':
      return new Int32Array(buffer, 0, size);
    case 'bool':
      return new Uint8Array(buffer, 0, size);
  }
}

/** The dtype a typed array stores (Uint8Array is bool). */
export function dtypeOfArray(array: TypedArray): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Copies `source` into a fresh array of `dtype` (bool maps every non-zero to 1). */
export function castArray(source: ArrayLike<number>, dtype: DType): TypedArray {
  const out = allocate(dtype, source.length);
  if (dtype === 'bool') {
    for (let i = 0; i < source.length; i++) out[i] = source[i] ? 1 : 0;
  } else if (dtype === 'int32') {
    // Truncation toward zero, as in C and PyTorch casts.
    for (let i = 0; i < source.length; i++) out[i] = Math.trunc(source[i]!);
  } else {
    for (let i = 0; i < source.length; i++) out[i] = source[i]!;
  }
  return out;
}
