import { UsageError } from './errors.js';

/** How one flag is read: a string value, a number, an integer, or a boolean switch. */
export type FlagKind = 'string' | 'number' | 'int' | 'bool';

export interface CommandSpec {
  name: string;
  /** Names of the positional arguments, in order (all required). */
  positional: string[];
  flags: Record<string, { kind: FlagKind; choices?: readonly string[]; default?: string | number | boolean }>;
  help: string;
}

export interface Parsed {
  positional: string[];
  flags: Record<string, string | number | boolean | undefined>;
}

/**
 * Reads `--flag value`, `--flag=value` and boolean `--flag`; rejects unknown flags, missing or
 * malformed values and wrong positional counts with a UsageError naming the command and flag.
 */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags: Parsed['flags'] = {};
  for (const [k, f] of Object.entries(spec.flags)) if (f.default !== undefined) flags[k] = f.default;
  const where = `kiln ${spec.name}`;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const f = spec.flags[name];
    if (!f) throw new UsageError(`${where}: unknown flag '--${name}' (known: ${Object.keys(spec.flags).map((k) => `--${k}`).join(', ') || 'none'})`);
    if (f.kind === 'bool') {
      if (eq >= 0) throw new UsageError(`${where}: --${name} is a switch and takes no value, got '${a.slice(eq + 1)}'`);
      flags[name] = true;
      continue;
    }
    const raw = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (raw === undefined || (eq < 0 && raw.startsWith('--'))) throw new UsageError(`${where}: --${name} needs a value`);
    if (f.kind === 'string') {
      if (f.choices && !f.choices.includes(raw)) throw new UsageError(`${where}: --${name} must be one of ${f.choices.join(', ')}, got '${raw}'`);
      flags[name] = raw;
    } else {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v) || (f.kind === 'int' && !Number.isInteger(v))) {
        throw new UsageError(`${where}: --${name} must be ${f.kind === 'int' ? 'an integer' : 'a number'}, got '${raw}'`);
      }
      flags[name] = v;
    }
  }
  if (positional.length < spec.positional.length) {
    throw new UsageError(`${where}: missing <${spec.positional[positional.length]}>`);
  }
  if (positional.length > spec.positional.length) {
    throw new UsageError(`${where}: unexpected argument '${positional[spec.positional.length]}'`);
  }
  return { positional, flags };
}

/** A positive-integer flag value, checked (flags parse as 'int' already; this checks the sign). */
export function positiveInt(spec: CommandSpec, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UsageError(`kiln ${spec.name}: --${name} must be a positive integer, got ${String(v)}`);
  return v;
}
