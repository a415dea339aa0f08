import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '@kiln/tensor';
import { attentionHeatmapSVG, saveAttentionHeatmap } from './heatmap.js';

describe('attention heatmaps', () => {
  it('draws one cell per weight, shaded by weight, labels escaped', () => {
    const w = [[1, 0, 0], [0.25, 0.5, 0.25]];
    const svg = attentionHeatmapSVG(w, { rowLabels: ['<a>', 'b'], colLabels: ['x', '&', ' '], title: 'a < b' });
    const cells = [...svg.matchAll(/<rect x="\d+" y="\d+" width="22" height="22" fill="rgb\((\d+),(\d+),(\d+)\)"><title>([\d.]+)<\/title>/g)];
    expect(cells).toHaveLength(6);
    expect(cells.map((c) => Number(c[4]))).toEqual([1, 0, 0, 0.25, 0.5, 0.25]);
    expect(cells[0]!.slice(1, 4).map(Number)).toEqual([8, 48, 107]); // weight 1: darkest
    expect(cells[1]!.slice(1, 4).map(Number)).toEqual([255, 255, 255]); // weight 0: white
    expect(svg).toContain('&lt;a&gt;');
    expect(svg).toContain('>&amp;<');
    expect(svg).toContain('a &lt; b');
    expect(svg).not.toContain('<a>');
    expect(attentionHeatmapSVG(new Tensor(Float64Array.from(w.flat()), [2, 3], 'float64'))).toBe(attentionHeatmapSVG(w));
  });

  it('writes atomically and rejects bad input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-heatmap-'));
    try {
      await saveAttentionHeatmap(join(dir, 'a.svg'), [[0.5, 0.5]]);
      expect((await readFile(join(dir, 'a.svg'), 'utf8')).startsWith('<svg')).toBe(true);
      expect(await readdir(dir)).toEqual(['a.svg']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(() => attentionHeatmapSVG([[1, 0], [1]])).toThrow(/attentionHeatmapSVG: row 1 has 1 entries, row 0 has 2/);
    expect(() => attentionHeatmapSVG([[1, 0]], { rowLabels: ['a', 'b'] })).toThrow(/2 rowLabels for 1 rows/);
    expect(() => attentionHeatmapSVG([[NaN]])).toThrow(/weight \[0, 0\] is NaN/);
    expect(() => attentionHeatmapSVG(new Tensor(new Float64Array(8), [2, 2, 2], 'float64'))).toThrow(/weights must be 2-d/);
    expect(() => attentionHeatmapSVG([[1]], { colour: 'red' } as never)).toThrow(/attentionHeatmapSVG.*colour/);
  });
});
