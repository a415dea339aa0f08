/** Validation of layer option objects: unknown keys and wrong types are errors naming the layer. */

/** 'spatial': a number or an array of numbers (kernel sizes, strides, paddings). */
type Kind = 'boolean' | 'number' | 'string' | 'spatial';

/** Throws unless `options` is a plain object whose keys are in `spec` with values of the stated type. */
export function checkOptions(layer: string, options: unknown, spec: Record<string, Kind>): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`Kiln: ${layer}: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const [k, v] of Object.entries(options)) {
    const kind = spec[k];
    if (!kind) throw new Error(`Kiln: ${layer}: unknown option '${k}' (known: ${Object.keys(spec).join(', ') || 'none'})`);
    if (v === undefined) continue;
    const ok = kind === 'spatial' ? typeof v === 'number' || (Array.isArray(v) && v.every((e) => typeof e === 'number')) : typeof v === kind;
    if (!ok) throw new Error(`Kiln: ${layer}: option '${k}' must be ${kind === 'spatial' ? 'a number or an array of numbers' : `a ${kind}`}, got ${JSON.stringify(v)}`);
  }
}

/** Throws unless `p` is a probability in [0, 1]. */
export function checkProbability(layer: string, p: unknown): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`Kiln: ${layer}: p must be a number in [0, 1], got ${String(p)}`);
}
