import { describe, expect, it } from 'vitest';
import { DATE_FORMATS, dateSplits, generateDates } from './dates.js';

describe('generateDates', () => {
  it('is seeded, covers every format, and each ISO string is the date the text names', () => {
    const a = generateDates(600, { seed: 3 }), b = generateDates(600, { seed: 3 });
    expect(a).toEqual(b);
    expect(generateDates(50, { seed: 4 })).not.toEqual(a.slice(0, 50));
    expect(new Set(a.map((p) => p.format))).toEqual(new Set(Object.keys(DATE_FORMATS)));
    for (const p of a) {
      expect(p.iso).toMatch(/^(19[5-9]\d|20[0-4]\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/);
      const [y, m, d] = p.iso.split('-').map(Number) as [number, number, number];
      const dt = new Date(Date.UTC(y, m - 1, d));
      expect(dt.getUTCDate()).toBe(d); // a real calendar date (no 31 April)
      const h = p.human.toLowerCase();
      const monthName = dt.toLocaleString('en-US', { month: 'long', timeZone: 'UTC' }).toLowerCase();
      const weekday = dt.toLocaleString('en-US', { weekday: 'long', timeZone: 'UTC' }).toLowerCase();
      if (/[a-z]{3}/.test(h.replace(/^the /, '').replace(/\d(st|nd|rd|th)/g, ''))) expect(h).toContain(monthName.slice(0, 3));
      if (p.format.startsWith('dddd')) expect(h).toContain(weekday);
      if (p.format.startsWith('ddd,')) expect(h.startsWith(weekday.slice(0, 3))).toBe(true);
      expect(h).toContain(String(y % 100).padStart(2, '0'));
    }
  });

  it('writes the course examples in their formats', () => {
    const p = { y: 1979, m: 5, d: 3, wd: 4 };
    expect(DATE_FORMATS['d MMMM yyyy']!(p)).toBe('3 May 1979');
    expect(DATE_FORMATS['MMMM do, yyyy']!(p)).toBe('May 3rd, 1979');
    expect(DATE_FORMATS['dd.MM.yyyy']!(p)).toBe('03.05.1979');
    expect(DATE_FORMATS['M/d/yy']!({ y: 1968, m: 5, d: 30, wd: 4 })).toBe('5/30/68');
    expect(DATE_FORMATS['dddd, mmmm d yyyy']!({ y: 2019, m: 4, d: 2, wd: 2 })).toBe('tuesday, april 2 2019');
    expect(DATE_FORMATS['the do of mmmm yyyy']!({ y: 2001, m: 1, d: 12, wd: 5 })).toBe('the 12th of january 2001');
    expect(generateDates(3, { seed: 1, formats: ['dddd, mmmm d yyyy'] }).every((q) => /^[a-z]+day, [a-z]+ \d+ \d{4}$/.test(q.human))).toBe(true);
  });

  it('dateSplits keeps dev dates out of training', () => {
    const { train, dev } = dateSplits(500, 200, { seed: 2 });
    const seen = new Set(train.map((p) => p.iso));
    expect(train).toHaveLength(500);
    expect(dev.length).toBeGreaterThan(150);
    expect(dev.some((p) => seen.has(p.iso))).toBe(false);
  });

  it('rejects bad arguments', () => {
    expect(() => generateDates(-1)).toThrow(/generateDates: n must be an integer ≥ 0, got -1/);
    expect(() => dateSplits(-2, 5)).toThrow(/^Kiln: dateSplits: nTrain must be an integer ≥ 0, got -2$/);
    expect(() => generateDates(3, { formats: ['dd/MM/yyyy'] })).toThrow(/unknown format 'dd\/MM\/yyyy'/);
    expect(() => generateDates(3, { formats: [] })).toThrow(/at least one format/);
    expect(() => generateDates(3, { sed: 1 } as never)).toThrow(/generateDates/);
  });
});
