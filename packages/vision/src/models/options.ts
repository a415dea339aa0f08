/**
 * Option checking shared by the zoo factories: unknown keys and wrong types are errors that name
 * the model, the option and the value.
 */
import { checkOptions as checkAny, type OptionKind as TensorOptionKind } from '@kiln/tensor';

/** A named kind, or a predicate returning what was expected (e.g. 'a positive number') or null when the value fits. */
export type OptionKind = 'int' | 'posint' | 'number' | 'prob' | 'bool' | 'posnum' | 'string' | ((v: unknown) => string | null);

/** Common options of every factory. */
export interface ZooOptions {
  /** Size of the classifier's output (default 1000, ImageNet). */
  numClasses?: number;
  /** Channels of the input images (default 3; LeNet-5: 1). */
  inChannels?: number;
}

/** The zoo's kinds in terms of @kiln/tensor's one option checker. */
const KINDS: Record<Exclude<OptionKind, (v: unknown) => string | null>, TensorOptionKind> = {
  int: 'int', posint: 'posint', number: 'finite', prob: 'prob', bool: 'boolean', string: 'string',
  posnum: (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'a positive number'),
};

/**
 * Throws `Kiln: <model>: ...` if `options` is not a plain object, has a key outside `spec`, or a
 * value of the wrong kind. `undefined` values count as absent.
 */
export function checkOptions(model: string, options: unknown, spec: Record<string, OptionKind>): void {
  checkAny(model, options, Object.fromEntries(Object.entries(spec).map(([k, kind]) => [k, typeof kind === 'function' ? kind : KINDS[kind]])));
}

/** The options every factory accepts, with their kinds. */
export const ZOO_SPEC: Record<string, OptionKind> = { numClasses: 'posint', inChannels: 'posint' };
