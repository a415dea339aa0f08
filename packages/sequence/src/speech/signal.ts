/**
 * Audio inputs and outputs of the speech features: a signal is a Float32Array, a Float64Array, a
 * number array or a Kiln tensor (1-d `[time]`, or 2-d `[batch, time]` for a batch). Features are
 * computed in float64 and returned as tensors whose dtype follows the input (float64 in → float64
 * out, anything else → float32) unless a `dtype` option says otherwise.
 */
import { Tensor, type DType } from '@kiln/tensor';

/** One signal, or (as a 2-d tensor) a batch of equal-length signals. */
export type AudioInput = Float32Array | Float64Array | readonly number[] | Tensor;

/** Output dtypes the features can produce. */
export type FeatureDType = 'float32' | 'float64';

/** The signals of an input, its leading (batch) shape and the default output dtype. */
export interface Signals {
  signals: Float64Array[];
  batchShape: number[];
  dtype: FeatureDType;
}

/** Checks every value is finite, naming the first offender. */
export function checkFinite(fn: string, arg: string, data: ArrayLike<number>, base = ''): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new Error(`Kiln: ${fn}: ${arg} must be finite, got ${v} at index ${base}${i}`);
  }
}

/** Reads an audio input into float64 signals (each checked finite and non-empty). */
export function readSignals(fn: string, x: AudioInput, arg = 'signal'): Signals {
  if (x instanceof Tensor) {
    if (x.ndim !== 1 && x.ndim !== 2) {
      throw new Error(`Kiln: ${fn}: ${arg} must be a 1-d [time] or 2-d [batch, time] tensor, got shape [${x.shape.join(',')}]`);
    }
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new Error(`Kiln: ${fn}: ${arg} must be a float32 or float64 tensor, got ${x.dtype}`);
    const data = x.dataSync();
    const T = x.shape[x.ndim - 1]!;
    const B = x.ndim === 2 ? x.shape[0]! : 1;
    if (T === 0) throw new Error(`Kiln: ${fn}: ${arg} is empty (shape [${x.shape.join(',')}])`);
    const signals: Float64Array[] = [];
    for (let b = 0; b < B; b++) {
      const s = Float64Array.from(data.subarray(b * T, (b + 1) * T));
      checkFinite(fn, arg, s, x.ndim === 2 ? `${b},` : '');
      signals.push(s);
    }
    return { signals, batchShape: x.ndim === 2 ? [B] : [], dtype: x.dtype };
  }
  if (!(x instanceof Float32Array || x instanceof Float64Array || Array.isArray(x))) {
    throw new Error(`Kiln: ${fn}: ${arg} must be a Float32Array, Float64Array, number array or tensor, got ${describe(x)}`);
  }
  if (x.length === 0) throw new Error(`Kiln: ${fn}: ${arg} is empty`);
  const s = Float64Array.from(x as ArrayLike<number>);
  checkFinite(fn, arg, s);
  return { signals: [s], batchShape: [], dtype: x instanceof Float64Array ? 'float64' : 'float32' };
}

/** A tensor of `dtype` from float64 values. */
export function toTensor(values: Float64Array, shape: readonly number[], dtype: FeatureDType): Tensor {
  return new Tensor(dtype === 'float64' ? values : Float32Array.from(values), shape, dtype as DType);
}

/** Stacks per-signal results (each of `shape`) into one tensor `[...batchShape, ...shape]`. */
export function stackResults(parts: Float64Array[], batchShape: readonly number[], shape: readonly number[], dtype: FeatureDType): Tensor {
  if (parts.length === 1 && batchShape.length === 0) return toTensor(parts[0]!, shape, dtype);
  const size = parts[0]?.length ?? 0;
  const all = new Float64Array(size * parts.length);
  parts.forEach((p, i) => all.set(p, i * size));
  return toTensor(all, [...batchShape, ...shape], dtype);
}

/** Reads a feature tensor (≥ 2-d, float) into float64 plus its shape. */
export function readFeatures(fn: string, x: Tensor, arg: string, minDims = 2): { data: Float64Array; shape: number[]; dtype: FeatureDType } {
  if (!(x instanceof Tensor)) throw new Error(`Kiln: ${fn}: ${arg} must be a tensor, got ${describe(x)}`);
  if (x.ndim < minDims) throw new Error(`Kiln: ${fn}: ${arg} must have at least ${minDims} dims, got shape [${x.shape.join(',')}]`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new Error(`Kiln: ${fn}: ${arg} must be a float32 or float64 tensor, got ${x.dtype}`);
  const data = Float64Array.from(x.dataSync());
  checkFinite(fn, arg, data);
  return { data, shape: [...x.shape], dtype: x.dtype };
}

/** Throws unless `v` is an integer ≥ `min`. */
export function checkInt(fn: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`Kiln: ${fn}: ${name} must be an integer >= ${min}, got ${describe(v)}`);
  }
  return v;
}

/** Throws unless `v` is a finite number (optionally > 0 or ≥ 0). */
export function checkNumber(fn: string, name: string, v: unknown, rule: 'finite' | 'positive' | 'nonnegative' = 'finite'): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (rule === 'finite' || (rule === 'positive' ? v > 0 : v >= 0));
  if (!ok) throw new Error(`Kiln: ${fn}: ${name} must be a ${rule === 'finite' ? 'finite' : rule} number, got ${describe(v)}`);
  return v as number;
}

function describe(v: unknown): string {
  if (v instanceof Tensor) return `a tensor of shape [${v.shape.join(',')}]`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
}
