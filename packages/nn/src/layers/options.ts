/** Validation of layer option objects through @kiln/tensor's one option checker. */
import { checkOptions as checkAny, Tensor, type OptionKind } from '@kiln/tensor';

/** Throws `Kiln: <layer>: ...` unless `options` is a plain object whose keys are in `spec` with values of the stated kind. */
export function checkOptions(layer: string, options: unknown, spec: Readonly<Record<string, OptionKind>>): void {
  checkAny(layer, options, spec);
}

/** A parameter dtype option: layers hold floating parameters only. */
export const FLOAT_DTYPE: OptionKind = (v) => (v === 'float32' || v === 'float64' ? null : "'float32' or 'float64'");

/** A Tensor-valued option (loss weights). */
export const TENSOR: OptionKind = (v) => (v instanceof Tensor ? null : 'a Tensor');

/** Throws unless `v` is a positive integer (a size, a count of features or embeddings). */
export function checkPositiveInt(layer: string, name: string, v: unknown): void {
  if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) throw new Error(`Kiln: ${layer}: ${name} must be a positive integer, got ${String(v)}`);
}

/** Throws unless `p` is a probability in [0, 1]. */
export function checkProbability(layer: string, p: unknown): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`Kiln: ${layer}: p must be a number in [0, 1], got ${String(p)}`);
}
