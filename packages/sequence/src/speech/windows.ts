/**
 * Window functions as torch.*_window defines them. With M = N (periodic, the default — the
 * window of N+1 points less its last, which is what a DFT of size N wants) or M = N − 1
 * (symmetric, numpy.hanning & co.), for n = 0 … N−1:
 * - hann:     0.5 − 0.5·cos(2πn/M)
 * - hamming:  0.54 − 0.46·cos(2πn/M)
 * - blackman: 0.42 − 0.5·cos(2πn/M) + 0.08·cos(4πn/M)
 * - rectangular: 1
 * A window of length 1 is [1].
 */
import { checkOptions, type Tensor } from '@kiln/tensor';
import { checkInt, readFeatures, toTensor, type FeatureDType } from './signal.js';

export const WINDOW_NAMES = ['hann', 'hamming', 'blackman', 'rectangular'] as const;
export type WindowName = (typeof WINDOW_NAMES)[number];

/** A window: by name (periodic), or its values. */
export type WindowSpec = WindowName | Float32Array | Float64Array | readonly number[] | Tensor;

export interface WindowOptions {
  /** Periodic (default true, as in torch) or symmetric (as numpy.hanning). */
  periodic?: boolean;
  /** Output dtype (default float32). */
  dtype?: FeatureDType;
}

/** The values of a named window of `length` points. */
export function windowValues(fn: string, name: WindowName, length: number, periodic = true): Float64Array {
  checkInt(fn, 'window length', length, 1);
  if (!(WINDOW_NAMES as readonly string[]).includes(name)) {
    throw new Error(`Kiln: ${fn}: unknown window '${String(name)}' (known: ${WINDOW_NAMES.join(', ')})`);
  }
  const w = new Float64Array(length);
  if (length === 1 || name === 'rectangular') return w.fill(1);
  const M = periodic ? length : length - 1;
  for (let n = 0; n < length; n++) {
    const c = Math.cos((2 * Math.PI * n) / M);
    w[n] = name === 'hann' ? 0.5 - 0.5 * c
      : name === 'hamming' ? 0.54 - 0.46 * c
      : 0.42 - 0.5 * c + 0.08 * Math.cos((4 * Math.PI * n) / M);
  }
  return w;
}

/** A named window as a tensor `[length]` (torch.hann_window & co. with `periodic`). */
export function getWindow(name: WindowName, length: number, options: WindowOptions = {}): Tensor {
  checkOptions('getWindow', options, { periodic: 'boolean', dtype: ['float32', 'float64'] });
  return toTensor(windowValues('getWindow', name, length, options.periodic ?? true), [length], options.dtype ?? 'float32');
}

/** torch.hann_window. */
export const hannWindow = (length: number, options: WindowOptions = {}): Tensor => getWindow('hann', length, options);
/** torch.hamming_window (α = 0.54, β = 0.46). */
export const hammingWindow = (length: number, options: WindowOptions = {}): Tensor => getWindow('hamming', length, options);
/** torch.blackman_window. */
export const blackmanWindow = (length: number, options: WindowOptions = {}): Tensor => getWindow('blackman', length, options);

/** Resolves a window option to `length` values (a name gives the periodic window). */
export function resolveWindow(fn: string, spec: WindowSpec, length: number): Float64Array {
  if (typeof spec === 'string') return windowValues(fn, spec, length, true);
  let values: Float64Array;
  if (spec instanceof Float32Array || spec instanceof Float64Array || Array.isArray(spec)) values = Float64Array.from(spec as ArrayLike<number>);
  else if (spec && typeof spec === 'object' && 'dataSync' in spec) values = readFeatures(fn, spec, 'window', 1).data;
  else throw new Error(`Kiln: ${fn}: window must be one of ${WINDOW_NAMES.join(', ')} or an array of values, got ${String(spec)}`);
  if (values.length !== length) throw new Error(`Kiln: ${fn}: window has ${values.length} values but winLength is ${length}`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new Error(`Kiln: ${fn}: window must be finite, got ${values[i]} at index ${i}`);
  }
  return values;
}
