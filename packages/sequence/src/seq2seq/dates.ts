/**
 * Human-readable dates → ISO `YYYY-MM-DD` (the course's 5.3.1 "date translation" exercise), from
 * a seeded generator so every run sees the same data.
 *
 * Dates are drawn uniformly from 1950-01-01 … 2049-12-31, the range where a two-digit year is
 * unambiguous (yy ≥ 50 → 19yy, else 20yy). Slash forms are US order (month/day), dot and dash
 * forms European order (day.month), so every string has exactly one reading. Weekday names are
 * the true weekday of the date.
 */
import { Generator, checkOptions } from '@kiln/tensor';

export interface DatePair {
  /** The human-readable form, e.g. "tuesday, april 2 2019". */
  human: string;
  /** The ISO form, e.g. "2019-04-02". */
  iso: string;
  /** The name of the format used (one of DATE_FORMATS). */
  format: string;
}

export interface DateOptions {
  /** Seed of the generator (default 0). */
  seed?: number;
  /** Use only these formats (names from DATE_FORMATS; default all). */
  formats?: readonly string[];
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

export interface DateParts { y: number; m: number; d: number; wd: number }

const pad2 = (n: number): string => String(n).padStart(2, '0');
const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);
const short = (s: string): string => s.slice(0, 3);
const yy = (y: number): string => pad2(y % 100);
function ordinal(d: number): string {
  const tens = Math.floor(d / 10) % 10, ones = d % 10;
  const suffix = tens === 1 ? 'th' : ones === 1 ? 'st' : ones === 2 ? 'nd' : ones === 3 ? 'rd' : 'th';
  return `${d}${suffix}`;
}
const month = (p: DateParts): string => MONTHS[p.m - 1]!;
const day = (p: DateParts): string => DAYS[p.wd]!;

/** Every format by name: a function from the date's parts to its text. */
export const DATE_FORMATS: Readonly<Record<string, (p: DateParts) => string>> = {
  'd MMMM yyyy': (p) => `${p.d} ${cap(month(p))} ${p.y}`, // 3 May 1979
  'dddd, mmmm d yyyy': (p) => `${day(p)}, ${month(p)} ${p.d} ${p.y}`, // tuesday, april 2 2019
  'M/d/yy': (p) => `${p.m}/${p.d}/${yy(p.y)}`, // 5/30/68
  'MM/dd/yyyy': (p) => `${pad2(p.m)}/${pad2(p.d)}/${p.y}`, // 05/30/1968
  'dd.MM.yyyy': (p) => `${pad2(p.d)}.${pad2(p.m)}.${p.y}`, // 03.05.1979
  'd.M.yy': (p) => `${p.d}.${p.m}.${yy(p.y)}`, // 3.5.79
  'MMMM do, yyyy': (p) => `${cap(month(p))} ${ordinal(p.d)}, ${p.y}`, // May 3rd, 1979
  'MMMM d, yyyy': (p) => `${cap(month(p))} ${p.d}, ${p.y}`, // May 3, 1979
  'MMM d yyyy': (p) => `${cap(short(month(p)))} ${p.d} ${p.y}`, // May 3 1979
  'd mmm yy': (p) => `${p.d} ${short(month(p))} ${yy(p.y)}`, // 3 may 79
  'dddd d MMMM yyyy': (p) => `${cap(day(p))} ${p.d} ${cap(month(p))} ${p.y}`, // Thursday 3 May 1979
  'ddd, MMM d, yyyy': (p) => `${cap(short(day(p)))}, ${cap(short(month(p)))} ${p.d}, ${p.y}`, // Thu, May 3, 1979
  'the do of mmmm yyyy': (p) => `the ${ordinal(p.d)} of ${month(p)} ${p.y}`, // the 3rd of may 1979
  'MMMM D YYYY': (p) => `${month(p).toUpperCase()} ${p.d} ${p.y}`, // MAY 3 1979
  'dd-MM-yyyy': (p) => `${pad2(p.d)}-${pad2(p.m)}-${p.y}`, // 03-05-1979
  'yyyy-MM-dd': (p) => `${p.y}-${pad2(p.m)}-${pad2(p.d)}`, // 1979-05-03 (already ISO)
};

const FIRST = Date.UTC(1950, 0, 1), DAY_MS = 86_400_000;
const SPAN = Math.round((Date.UTC(2050, 0, 1) - FIRST) / DAY_MS);

/** The parts of day `k` after 1950-01-01 (UTC, so no time zone can shift it). */
function partsOf(k: number): DateParts {
  const dt = new Date(FIRST + k * DAY_MS);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate(), wd: dt.getUTCDay() };
}

/** `n` random (human, ISO) pairs; the same `seed` gives the same pairs. */
export function generateDates(n: number, options: DateOptions = {}): DatePair[] {
  checkOptions('generateDates', options, { seed: 'int', formats: 'names' });
  if (!Number.isInteger(n) || n < 0) throw new Error(`Kiln: generateDates: n must be an integer ≥ 0, got ${String(n)}`);
  const names = options.formats ? [...options.formats] : Object.keys(DATE_FORMATS);
  if (names.length === 0) throw new Error('Kiln: generateDates: formats must name at least one format');
  for (const f of names) {
    if (!(f in DATE_FORMATS)) throw new Error(`Kiln: generateDates: unknown format '${f}'; known: ${Object.keys(DATE_FORMATS).join(' | ')}`);
  }
  const g = new Generator(options.seed ?? 0);
  const out: DatePair[] = [];
  for (let i = 0; i < n; i++) {
    const p = partsOf(g.randint(0, SPAN));
    const format = names[g.randint(0, names.length)]!;
    out.push({ human: DATE_FORMATS[format]!(p), iso: `${p.y}-${pad2(p.m)}-${pad2(p.d)}`, format });
  }
  return out;
}

/**
 * A train/dev split with no ISO date in both: `generateDates(nTrain + nDev)` with duplicates of
 * the training dates dropped from dev (so dev measures generalisation to unseen dates).
 */
export function dateSplits(nTrain: number, nDev: number, options: DateOptions = {}): { train: DatePair[]; dev: DatePair[] } {
  // a negative count would slice from the end and move pairs between the splits
  for (const [name, v] of [['nTrain', nTrain], ['nDev', nDev]] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`Kiln: dateSplits: ${name} must be an integer ≥ 0, got ${String(v)}`);
  }
  const all = generateDates(nTrain + nDev, options);
  const train = all.slice(0, nTrain);
  const seen = new Set(train.map((p) => p.iso));
  return { train, dev: all.slice(nTrain).filter((p) => !seen.has(p.iso)) };
}
