/**
 * checkOptions: the one validator for option objects across Kiln's public functions. An option
 * object given the wrong shape (unknown key, wrong type, not an object) is an error naming the
 * function, the option and the value — never silently ignored.
 */

/**
 * What an option may hold: a named kind, a list of allowed strings, or a predicate returning an
 * error description (e.g. 'a Generator') when the value is wrong and null when it is right.
 */
export type OptionKind =
  | 'boolean' | 'number' | 'finite' | 'int' | 'posint' | 'nonnegint' | 'prob' | 'string' | 'function' | 'object'
  | 'spatial' | 'dtype' | 'names'
  | readonly string[]
  | ((v: unknown) => string | null);

const DTYPES = ['float32', 'float64', 'int32', 'bool'];

/** How to print a value in an error: strings quoted, objects as JSON (bounded), others plainly. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null || v === undefined || typeof v !== 'object') return typeof v === 'function' ? 'a function' : String(v);
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const KIND_TEXT: Record<string, string> = {
  boolean: 'a boolean', number: 'a number', finite: 'a finite number', int: 'an integer', posint: 'a positive integer',
  nonnegint: 'a non-negative integer', prob: 'a number in [0, 1]', string: 'a string', function: 'a function', object: 'an object',
  spatial: 'a positive integer or an array of them', dtype: `one of ${DTYPES.join(', ')}`, names: 'an array of strings',
};

function checkKind(kind: OptionKind, v: unknown): string | null {
  if (typeof kind === 'function') return kind(v);
  if (Array.isArray(kind)) return typeof v === 'string' && kind.includes(v) ? null : `one of ${kind.map((k) => `'${k}'`).join(', ')}`;
  const isInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x);
  let ok: boolean;
  switch (kind as string) {
    case 'boolean': ok = typeof v === 'boolean'; break;
    case 'number': ok = typeof v === 'number' && !Number.isNaN(v); break;
    case 'finite': ok = typeof v === 'number' && Number.isFinite(v); break;
    case 'int': ok = isInt(v); break;
    case 'posint': ok = isInt(v) && (v as number) > 0; break;
    case 'nonnegint': ok = isInt(v) && (v as number) >= 0; break;
    case 'prob': ok = typeof v === 'number' && v >= 0 && v <= 1; break;
    case 'string': ok = typeof v === 'string'; break;
    case 'function': ok = typeof v === 'function'; break;
    case 'object': ok = v !== null && typeof v === 'object' && !Array.isArray(v); break;
    case 'spatial': ok = isInt(v) || (Array.isArray(v) && v.every(isInt)); break;
    case 'dtype': ok = typeof v === 'string' && DTYPES.includes(v); break;
    case 'names': ok = Array.isArray(v) && v.every((e) => typeof e === 'string'); break;
    default: throw new Error(`Kiln: checkOptions: unknown option kind ${describeValue(kind)}`);
  }
  return ok ? null : KIND_TEXT[kind as string]!;
}

/**
 * Throws `Kiln: <fn>: ...` unless `options` is undefined or a plain object whose every key is in
 * `spec` with a value of that kind (`undefined` values count as absent).
 */
export function checkOptions(fn: string, options: unknown, spec: Readonly<Record<string, OptionKind>>, what = 'options'): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options) || ArrayBuffer.isView(options)) {
    throw new Error(`Kiln: ${fn}: ${what} must be an object, got ${Array.isArray(options) ? `an array ${describeValue(options)}` : describeValue(options)}`);
  }
  for (const k of Object.keys(options)) {
    const v = (options as Record<string, unknown>)[k];
    if (!Object.hasOwn(spec, k)) {
      throw new Error(`Kiln: ${fn}: unknown option '${k}' (known: ${Object.keys(spec).join(', ') || 'none'})`);
    }
    if (v === undefined) continue;
    const want = checkKind(spec[k]!, v);
    if (want !== null && spec[k] === 'dtype') throw new Error(`Kiln: ${fn}: unknown dtype ${describeValue(v)} (expected float32, float64, int32 or bool)`);
    if (want !== null) throw new Error(`Kiln: ${fn}: option '${k}' must be ${want}, got ${describeValue(v)}`);
  }
}

/** True for a plain options object (not an array, typed array, tensor-like or null). */
export function isOptionsObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
