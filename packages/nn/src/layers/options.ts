/** Validation of layer option objects through @kiln/tensor's one option checker. */
import { checkOptions as checkAny, type OptionKind } from '@kiln/tensor';

/** 'spatial': an integer or an array of integers (kernel sizes, strides, paddings). */
type Kind = 'boolean' | 'number' | 'string' | 'spatial';

/** Throws `Kiln: <layer>: ...` unless `options` is a plain object whose keys are in `spec` with values of the stated kind. */
export function checkOptions(layer: string, options: unknown, spec: Record<string, Kind>): void {
  checkAny(layer, options, spec as Record<string, OptionKind>);
}

/** Throws unless `p` is a probability in [0, 1]. */
export function checkProbability(layer: string, p: unknown): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`Kiln: ${layer}: p must be a number in [0, 1], got ${String(p)}`);
}
