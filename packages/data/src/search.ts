import { Generator, checkOptions, type OptionKind } from '@kiln/tensor';

/** How one hyperparameter is sampled: uniform in [min, max], log10-uniform (α = 10^r), or β = 1 − 10^r. */
export type ParamSpace =
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'log'; min: number; max: number }
  | { kind: 'oneMinusLog'; min: number; max: number }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'choice'; values: readonly (number | string)[] };

export type Params = Record<string, number | string>;
export interface Trial { params: Params; score: number }

export interface RandomSearchOptions {
  trials: number;
  /** Extra rounds that narrow each numeric range around the best trials so far. */
  rounds?: number;
  /** 'max' (accuracy) or 'min' (loss). */
  mode?: 'max' | 'min';
  seed?: number;
  /** Fraction of the best trials whose span defines the next round's ranges. */
  topFraction?: number;
}

function sample(s: ParamSpace, g: Generator): number | string {
  const u = g.random();
  switch (s.kind) {
    case 'uniform': return s.min + u * (s.max - s.min);
    case 'int': return s.min + Math.floor(u * (s.max - s.min + 1));
    case 'log': return 10 ** (Math.log10(s.min) + u * (Math.log10(s.max) - Math.log10(s.min)));
    case 'oneMinusLog': {
      const lo = Math.log10(1 - s.max), hi = Math.log10(1 - s.min);
      return 1 - 10 ** (lo + u * (hi - lo));
    }
    case 'choice': return s.values[Math.floor(u * s.values.length)]!;
  }
}

function checkSpace(name: string, s: ParamSpace): void {
  const where = `randomSearch: space '${name}'`;
  const kinds = ['uniform', 'log', 'oneMinusLog', 'int', 'choice'];
  const values = (v: unknown) => (Array.isArray(v) && v.every((e) => typeof e === 'number' || typeof e === 'string') ? null : 'an array of numbers or strings');
  const spec: Record<string, OptionKind> = (s as { kind?: unknown } | null)?.kind === 'choice' ? { kind: kinds, values } : { kind: kinds, min: 'finite', max: 'finite' };
  checkOptions(where, s, spec, 'the space');
  if (s.kind === undefined) throw new Error(`Kiln: ${where}: needs a kind ('uniform', 'log', 'oneMinusLog', 'int' or 'choice')`);
  if (s.kind === 'choice') { if (!s.values || s.values.length === 0) throw new Error(`Kiln: randomSearch: '${name}' has no choices`); return; }
  if (!(s.min <= s.max)) throw new Error(`Kiln: randomSearch: '${name}' needs min <= max, got [${s.min}, ${s.max}]`);
  if (s.kind === 'int' && !(Number.isInteger(s.min) && Number.isInteger(s.max))) throw new Error(`Kiln: randomSearch: int range of '${name}' needs integer bounds, got [${s.min}, ${s.max}]`);
  if (s.kind === 'log' && !(s.min > 0)) throw new Error(`Kiln: randomSearch: log range of '${name}' must be positive, got [${s.min}, ${s.max}]`);
  if (s.kind === 'oneMinusLog' && !(s.max < 1)) throw new Error(`Kiln: randomSearch: oneMinusLog range of '${name}' must stay below 1, got [${s.min}, ${s.max}]`);
}

/** Narrows numeric ranges to the span of the best trials (coarse to fine). */
export function refineSpace(space: Record<string, ParamSpace>, best: readonly Trial[]): Record<string, ParamSpace> {
  const out: Record<string, ParamSpace> = {};
  for (const [name, s] of Object.entries(space)) {
    if (s.kind === 'choice' || best.length === 0) { out[name] = s; continue; }
    const vals = best.map((t) => t.params[name] as number);
    out[name] = { ...s, min: Math.max(s.min, Math.min(...vals)), max: Math.min(s.max, Math.max(...vals)) };
  }
  return out;
}

/** Random search over `space`, scoring each sampled configuration with `objective`; returns all trials, best first. */
export async function randomSearch(
  space: Record<string, ParamSpace>,
  objective: (params: Params) => number | Promise<number>,
  options: RandomSearchOptions,
): Promise<{ best: Trial; trials: Trial[]; spaces: Record<string, ParamSpace>[] }> {
  for (const [k, s] of Object.entries(space)) checkSpace(k, s);
  checkOptions('randomSearch', options, { trials: 'number', rounds: 'nonnegint', mode: ['max', 'min'], seed: 'finite', topFraction: 'prob' });
  if (!Number.isInteger(options.trials) || options.trials < 1) throw new Error(`Kiln: randomSearch: trials must be a positive integer, got ${options.trials}`);
  const g = new Generator(options.seed ?? 0), sign = (options.mode ?? 'max') === 'max' ? -1 : 1;
  const trials: Trial[] = [], spaces = [space];
  let current = space;
  for (let round = 0; round <= (options.rounds ?? 0); round++) {
    if (round > 0) {
      const ranked = [...trials].sort((a, b) => sign * (a.score - b.score));
      current = refineSpace(space, ranked.slice(0, Math.max(2, Math.ceil(ranked.length * (options.topFraction ?? 0.25)))));
      spaces.push(current);
    }
    for (let t = 0; t < options.trials; t++) {
      const params: Params = {};
      for (const [k, s] of Object.entries(current)) params[k] = sample(s, g);
      trials.push({ params, score: await objective(params) });
    }
  }
  trials.sort((a, b) => sign * (a.score - b.score));
  return { best: trials[0]!, trials, spaces };
}
