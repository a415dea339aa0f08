/** Creating tensors: from data, constants, ranges and random draws. */
import { allocate, castArray, dtypeOfArray, isDType, type DType, type TypedArray } from '../dtype.js';
import { checkOptions, isOptionsObject, type OptionKind } from '../options.js';
import { defaultGenerator, Generator } from '../random.js';
import { checkShape, formatShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { composite } from '../trace.js';

export interface TensorOptions {
  /** float32 unless the data says otherwise (a typed array's own type, booleans → bool). */
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  /** Defaults to the global generator seeded by manualSeed(). */
  generator?: Generator;
}

export type NestedArray = number | boolean | readonly NestedArray[];

const TENSOR_OPTIONS: Record<string, OptionKind> = { dtype: 'dtype', requiresGrad: 'boolean' };
const RANDOM_OPTIONS: Record<string, OptionKind> = { ...TENSOR_OPTIONS, generator: (v) => (v instanceof Generator ? null : 'a Generator') };

function finalize(t: Tensor, options: TensorOptions | undefined): Tensor {
  if (options?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function resolveDType(op: string, dtype: DType | undefined, fallback: DType): DType {
  if (dtype !== undefined && !isDType(dtype)) {
    throw new Error(`Kiln: ${op}: unknown dtype '${String(dtype)}' (expected float32, float64, int32 or bool)`);
  }
  return dtype ?? fallback;
}

function shapeOf(op: string, shape: number | readonly number[]): number[] {
  return checkShape(op, typeof shape === 'number' ? [shape] : shape);
}

/**
 * A tensor from a number, nested arrays (must be rectangular) or a typed array, 1-D or of the
 * `shape` given in options (which also lays out an array's values, in row-major order). Numbers default to float32 — not int as in PyTorch — since
 * JavaScript has one number type and almost all model data is floating.
 */
export function tensor(data: NestedArray | TypedArray, options: TensorOptions & { shape?: readonly number[] } = {}): Tensor {
  checkOptions('tensor', options, { ...TENSOR_OPTIONS, shape: (v) => (Array.isArray(v) && v.every((d) => Number.isInteger(d) && d >= 0) ? null : 'an array of non-negative integers') });
  if (ArrayBuffer.isView(data)) {
    const source = data as TypedArray;
    const dtype = resolveDType('tensor', options.dtype, dtypeOfArray(source));
    const shape = options.shape ? checkShape('tensor', options.shape) : [source.length];
    if (sizeOf(shape) !== source.length) {
      throw new Error(`Kiln: tensor: ${source.length} values do not fit shape ${formatShape(shape)}`);
    }
    const copy = dtype === dtypeOfArray(source) ? source.slice() : castArray(source, dtype);
    return finalize(new Tensor(copy, shape, dtype), options);
  }
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = (probe as readonly NestedArray[])[0] as NestedArray;
    if (probe === undefined) break;
  }
  const flat: number[] = [];
  let sawBool = false;
  const walk = (v: NestedArray, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v === 'boolean') {
        sawBool = true;
        flat.push(v ? 1 : 0);
      } else if (typeof v === 'number') flat.push(v);
      else throw new Error(`Kiln: tensor: expected a number at ${path || 'the top'}, got ${Array.isArray(v) ? 'an array' : typeof v}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new Error(
        `Kiln: tensor: ragged nested array at ${path || 'the top'}: expected length ${shape[depth]}, got ${Array.isArray(v) ? v.length : typeof v}`,
      );
    }
    (v as readonly NestedArray[]).forEach((item, i) => walk(item, depth + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  const dtype = resolveDType('tensor', options.dtype, sawBool ? 'bool' : 'float32');
  // A shape option lays the values out in row-major order, as it does for a typed array.
  const laid = options.shape ? checkShape('tensor', options.shape) : shape;
  if (sizeOf(laid) !== flat.length) {
    throw new Error(`Kiln: tensor: ${flat.length} values (an array of shape ${formatShape(shape)}) do not fit shape ${formatShape(laid)}`);
  }
  return finalize(new Tensor(castArray(flat, dtype), laid, dtype), options);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: number | readonly number[], value: number, options: TensorOptions = {}): Tensor {
  checkOptions('full', options, TENSOR_OPTIONS);
  const s = shapeOf('full', shape);
  const dtype = resolveDType('full', options.dtype, 'float32');
  const data = allocate(dtype, sizeOf(s));
  data.fill(dtype === 'bool' ? (value ? 1 : 0) : value);
  return finalize(new Tensor(data, s, dtype), options);
}

/** Zeros of `shape`. */
export const zeros = (shape: number | readonly number[], options: TensorOptions = {}): Tensor => full(shape, 0, options);
/** Ones of `shape`. */
export const ones = (shape: number | readonly number[], options: TensorOptions = {}): Tensor => full(shape, 1, options);
/** Zeros with the shape and dtype of `t`. */
export const zerosLike = (t: Tensor, options: TensorOptions = {}): Tensor => full(t.shape, 0, { dtype: t.dtype, ...options });
/** Ones with the shape and dtype of `t`. */
export const onesLike = (t: Tensor, options: TensorOptions = {}): Tensor => full(t.shape, 1, { dtype: t.dtype, ...options });
/** `value` with the shape and dtype of `t`. */
export const fullLike = (t: Tensor, value: number, options: TensorOptions = {}): Tensor =>
  full(t.shape, value, { dtype: t.dtype, ...options });

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`; `arange(n)` is 0..n-1.
 * int32 when every argument is an integer, float32 otherwise. Options may follow any number of the
 * bounds, as in PyTorch's `arange(end, dtype=...)`: `arange(16, { dtype: 'float32' })`.
 */
export function arange(end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end?: number, step?: number, options?: TensorOptions): Tensor;
export function arange(start: number, endArg?: number | TensorOptions, stepArg?: number | TensorOptions, optionsArg: TensorOptions = {}): Tensor {
  let end: number | undefined, step = 1, options = optionsArg;
  if (isOptionsObject(endArg)) {
    if (arguments.length > 2) throw new Error('Kiln: arange: nothing may follow the options object');
    options = endArg as TensorOptions;
  } else if (isOptionsObject(stepArg)) {
    if (arguments.length > 3) throw new Error('Kiln: arange: nothing may follow the options object');
    end = endArg as number;
    options = stepArg as TensorOptions;
  } else {
    end = endArg as number | undefined;
    step = (stepArg as number | undefined) ?? 1;
  }
  checkOptions('arange', options, TENSOR_OPTIONS);
  for (const [name, v] of [['start', start], ['end', end], ['step', step]] as const) {
    if (v !== undefined && typeof v !== 'number') throw new Error(`Kiln: arange: ${name} must be a number, got ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  }
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(step)) throw new Error(`Kiln: arange: step must be a finite non-zero number, got ${step}`);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`Kiln: arange: bounds must be finite, got ${lo}..${hi}`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const ints = [lo, hi, step].every(Number.isInteger);
  const dtype = resolveDType('arange', options.dtype, ints ? 'int32' : 'float32');
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = lo + i * step;
  return finalize(new Tensor(data, [n], dtype), options);
}

/** `steps` evenly spaced values from start to end, both included. */
export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  checkOptions('linspace', options, TENSOR_OPTIONS);
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`Kiln: linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = resolveDType('linspace', options.dtype, 'float32');
  const data = allocate(dtype, steps);
  const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Fill from both ends so the last value is exactly `end`, as in PyTorch.
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) data[i] = i < half ? start + i * delta : end - (steps - 1 - i) * delta;
  return finalize(new Tensor(data, [steps], dtype), options);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: TensorOptions = {}): Tensor {
  const t = zeros([n, m], options);
  for (let i = 0; i < Math.min(n, m); i++) t._data[i * m + i] = 1;
  return t;
}

function randomTensor(op: string, shape: number | readonly number[], options: RandomOptions, draw: (g: Generator) => number): Tensor {
  checkOptions(op, options, RANDOM_OPTIONS);
  const s = shapeOf(op, shape);
  const dtype = resolveDType(op, options.dtype, 'float32');
  const g = options.generator ?? defaultGenerator;
  const data = allocate(dtype, sizeOf(s));
  for (let i = 0; i < data.length; i++) data[i] = draw(g);
  return finalize(new Tensor(data, s, dtype), options);
}

/** Uniform on [0, 1). */
export const rand = (shape: number | readonly number[], options: RandomOptions = {}): Tensor =>
  randomTensor('rand', shape, options, (g) => g.random());
/** Standard normal. */
export const randn = (shape: number | readonly number[], options: RandomOptions = {}): Tensor =>
  randomTensor('randn', shape, options, (g) => g.normal());
/** Uniform on [low, high). */
export const uniform = (shape: number | readonly number[], low = 0, high = 1, options: RandomOptions = {}): Tensor =>
  randomTensor('uniform', shape, options, (g) => low + (high - low) * g.random());
/** Normal with the given mean and standard deviation. */
export const normal = (shape: number | readonly number[], mean = 0, std = 1, options: RandomOptions = {}): Tensor =>
  randomTensor('normal', shape, options, (g) => mean + std * g.normal());
/** Uniform integers on [low, high), int32 by default. */
export function randint(low: number, high: number, shape: number | readonly number[], options: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`Kiln: randint: expected integers low < high, got ${low}, ${high}`);
  }
  return randomTensor('randint', shape, { dtype: 'int32', ...options }, (g) => g.randint(low, high));
}
/** Uniform [0, 1) with the shape and dtype of `t`. */
export const randLike = (t: Tensor, options: RandomOptions = {}): Tensor => rand(t.shape, { dtype: t.dtype, ...options });
/** Standard normal with the shape and dtype of `t`. */
export const randnLike = (t: Tensor, options: RandomOptions = {}): Tensor => randn(t.shape, { dtype: t.dtype, ...options });

/** A random permutation of 0..n-1 (int32). */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  checkOptions('randperm', options, { generator: RANDOM_OPTIONS.generator! });
  const g = options.generator ?? defaultGenerator;
  return new Tensor(g.permutation(n), [n], 'int32');
}

/**
 * An inverted-dropout mask: each element is 0 with probability p and 1/(1−p) otherwise, so
 * `x · mask` keeps the expectation of x.
 */
export function dropoutMask(shape: number | readonly number[], p: number, options: RandomOptions = {}): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`Kiln: dropoutMask: p must be in [0, 1), got ${p}`);
  const scale = 1 / (1 - p);
  return randomTensor('dropoutMask', shape, options, (g) => (g.random() >= p ? scale : 0));
}

/** Inverted dropout: zeroes elements with probability p and scales the rest by 1/(1−p); identity when not training. */
export function dropout(x: Tensor, p = 0.5, training = true, options: RandomOptions = {}): Tensor {
  checkOptions('dropout', options, { generator: RANDOM_OPTIONS.generator! });
  if (!(p >= 0 && p <= 1)) throw new Error(`Kiln: dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  return composite('dropout', [x], { p }, () => {
    if (p === 1) return x.mul(0);
    return x.mul(dropoutMask(x.shape, p, { ...options, dtype: x.dtype }));
  });
}
