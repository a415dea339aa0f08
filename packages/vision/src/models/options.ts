/**
 * Option checking shared by the zoo factories: unknown keys and wrong types are errors that name
 * the model, the option and the value.
 */

export type OptionKind = 'int' | 'posint' | 'number' | 'prob' | 'bool' | 'posnum' | 'string';

/** Common options of every factory. */
export interface ZooOptions {
  /** Size of the classifier's output (default 1000, ImageNet). */
  numClasses?: number;
  /** Channels of the input images (default 3; LeNet-5: 1). */
  inChannels?: number;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? JSON.stringify(v) : String(v);
}

/**
 * Throws `Kiln: <model>: ...` if `options` is not a plain object, has a key outside `spec`, or a
 * value of the wrong kind. `undefined` values count as absent.
 */
export function checkOptions(model: string, options: unknown, spec: Record<string, OptionKind>): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`Kiln: ${model}: options must be an object, got ${describe(options)}`);
  }
  for (const [k, v] of Object.entries(options as Record<string, unknown>)) {
    const kind = spec[k];
    if (!kind) throw new Error(`Kiln: ${model}: unknown option '${k}' (expected one of: ${Object.keys(spec).join(', ')})`);
    if (v === undefined) continue;
    const ok = kind === 'bool' ? typeof v === 'boolean'
      : kind === 'string' ? typeof v === 'string'
      : typeof v === 'number' && Number.isFinite(v) && (
        kind === 'number' ? true
          : kind === 'int' ? Number.isInteger(v)
            : kind === 'posint' ? Number.isInteger(v) && v > 0
              : kind === 'prob' ? v >= 0 && v <= 1
                : v > 0);
    if (!ok) {
      const want = { int: 'an integer', posint: 'a positive integer', number: 'a finite number', prob: 'a number in [0, 1]', bool: 'a boolean', string: 'a string', posnum: 'a positive number' }[kind];
      throw new Error(`Kiln: ${model}: option '${k}' must be ${want}, got ${describe(v)}`);
    }
  }
}

/** The options every factory accepts, with their kinds. */
export const ZOO_SPEC: Record<string, OptionKind> = { numClasses: 'posint', inChannels: 'posint' };
