import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '@kiln/tensor';
import { crossEntropy } from '@kiln/nn';
import { SGD } from '@kiln/optim';
import { fit, learningCurvesSvg, saveLearningCurves, type History } from './index.js';
import { niceTicks } from './curves.js';
import { accuracyMetric, toySetup } from './test-utils/toy.js';

const dirs: string[] = [];
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-train-curves-'));
  dirs.push(d);
  return d;
}

/** The plot rectangle of each panel of an SVG, by panel name. */
function plotAreas(svg: string): Record<string, { left: number; right: number; top: number; bottom: number }> {
  const out: Record<string, { left: number; right: number; top: number; bottom: number }> = {};
  for (const m of svg.matchAll(/<g class="panel" data-name="([^"]*)">\n<rect class="plot-area" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)) {
    const [x, y, w, h] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
    out[m[1]!] = { left: x, right: x + w, top: y, bottom: y + h };
  }
  return out;
}

/** The polylines of an SVG as { name: [[x, y], ...] }. */
function polylines(svg: string): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const m of svg.matchAll(/<polyline class="series" data-name="([^"]*)"[^>]* points="([^"]*)"\/>/g)) {
    out[m[1]!] = m[2]!.split(' ').filter(Boolean).map((p) => p.split(',').map(Number) as [number, number]);
  }
  return out;
}

const history = (): History => ({
  epochs: [1, 2, 3, 4],
  trainLoss: [1.2, 0.8, 0.5, 0.4],
  devLoss: [1.3, 0.9, 0.7, 0.75],
  metrics: { accuracy: [0.5, 0.7, 0.8, 0.82] },
  lr: [0.1, 0.1, 0.1, 0.1],
  seconds: [0.1, 0.1, 0.1, 0.1],
  bestEpoch: 4,
  stoppedEarly: false,
});

describe('learning curves', () => {
  it('saveLearningCurves writes the history as JSON and the curves as SVG', async () => {
    const dir = await tempDir();
    const h = history();
    await saveLearningCurves(h, join(dir, 'run'), 'Toy run');
    expect((await readdir(dir)).sort()).toEqual(['run.json', 'run.svg']);
    expect(JSON.parse(await readFile(join(dir, 'run.json'), 'utf8'))).toEqual(h);
    const svg = await readFile(join(dir, 'run.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('>Toy run</text>');
    const lines = polylines(svg);
    expect(Object.keys(lines)).toEqual(['train loss', 'dev loss', 'accuracy']);
    for (const pts of Object.values(lines)) {
      expect(pts).toHaveLength(4);
      for (let i = 1; i < pts.length; i++) expect(pts[i]![0]).toBeGreaterThan(pts[i - 1]![0]); // epochs left to right
    }
    // a falling loss is drawn going down the chart (SVG y grows downwards)
    const train = lines['train loss']!;
    for (let i = 1; i < train.length; i++) expect(train[i]![1]).toBeGreaterThan(train[i - 1]![1]);
    // higher values sit higher: dev loss at epoch 4 (0.75) is above train loss (0.4)
    expect(lines['dev loss']![3]![1]).toBeLessThan(train[3]![1]);
    // losses share the top panel's scale; accuracy has a panel (and axis) of its own below it
    const areas = plotAreas(svg);
    expect(Object.keys(areas)).toEqual(['loss', 'metrics']);
    expect(areas.metrics!.top).toBeGreaterThan(areas.loss!.bottom);
    for (const [name, pts] of Object.entries(lines)) {
      const a = areas[name === 'accuracy' ? 'metrics' : 'loss']!;
      for (const [x, yy] of pts) {
        expect(x).toBeGreaterThanOrEqual(a.left);
        expect(x).toBeLessThanOrEqual(a.right);
        expect(yy).toBeGreaterThanOrEqual(a.top);
        expect(yy).toBeLessThanOrEqual(a.bottom);
      }
    }
    // the metrics axis runs from 0.5 (the lowest accuracy, a round value) to 1: 0.5 at the bottom, 0.82 at 64% of the way up
    const m = areas.metrics!;
    expect(lines.accuracy![0]![1]).toBeCloseTo(m.bottom, 0);
    expect(lines.accuracy![3]![1]).toBeCloseTo(m.bottom - ((0.82 - 0.5) / 0.5) * (m.bottom - m.top), 0);
    expect(svg).toMatch(/class="best-epoch" x1="([\d.]+)"/);
    expect(Number(/class="best-epoch" x1="([\d.]+)"/.exec(svg)![1])).toBeCloseTo(train[3]![0], 0);
  });

  it('keeps every value inside the axes (the accuracy line once ran above a 0–0.8 axis)', () => {
    const cases: Record<string, number[]>[] = [
      { 'train loss': [0.61, 0.3, 0.2, 0.15], 'dev loss': [0.5, 0.31, 0.28, 0.3], accuracy: [0.9, 0.95, 0.97, 0.983] },
      { 'train loss': [2.3, 1.1], accuracy: [0.11, 0.64] },
      { 'train loss': [1e-3, 2e-4, 1.5e-4], 'dev loss': [1.2e-3, 9e-4, 9.9e-4] },
      { 'train loss': [-0.5, -1.7, -2.25], bleu: [3.5, 12.25, 17] },
    ];
    for (const series of cases) {
      const svg = learningCurvesSvg(series);
      const areas = plotAreas(svg);
      const lines = polylines(svg);
      expect(Object.keys(lines).sort()).toEqual(Object.keys(series).sort());
      for (const [name, pts] of Object.entries(lines)) {
        const a = areas[/loss/.test(name) ? 'loss' : 'metrics']!;
        for (const [, yy] of pts) {
          expect(yy).toBeGreaterThanOrEqual(a.top - 1e-6);
          expect(yy).toBeLessThanOrEqual(a.bottom + 1e-6);
        }
      }
    }
    expect(niceTicks(0, 0.983)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.15, 0.61).at(-1)).toBeGreaterThanOrEqual(0.61);
  });

  it('rejects unknown options', () => {
    expect(() => learningCurvesSvg({ 'train loss': [1] }, 't', { best: 2 } as never)).toThrow("Kiln: learningCurvesSvg: unknown option 'best' (known: bestEpoch)");
  });

  it('leaves out a dev-loss series that has no finite values, and skips non-finite points', () => {
    const h = history();
    h.devLoss = [NaN, NaN, NaN, NaN];
    h.metrics.accuracy = [0.5, NaN, 0.8, 0.82];
    const series: Record<string, number[]> = { 'train loss': h.trainLoss, accuracy: h.metrics.accuracy };
    const lines = polylines(learningCurvesSvg(series));
    expect(Object.keys(lines)).toEqual(['train loss', 'accuracy']);
    expect(lines.accuracy).toHaveLength(3);
  });

  it('escapes series names and titles', () => {
    const svg = learningCurvesSvg({ 'a<b & "c"': [1, 2] }, 'x < y');
    expect(svg).toContain('data-name="a&lt;b &amp; &quot;c&quot;"');
    expect(svg).toContain('>x &lt; y</text>');
    expect(svg).not.toContain('a<b');
  });

  it('fit({ curves }) writes <prefix>.json and <prefix>.svg matching the returned history', async () => {
    const dir = await tempDir();
    const { model, train, dev } = toySetup();
    const h = await fit(model, {
      train, dev, loss: (o: Tensor, t: Tensor) => crossEntropy(o, t), optimizer: new SGD(model.parameters(), { lr: 0.2 }), epochs: 3,
      metrics: { accuracy: accuracyMetric }, progress: false, curves: join(dir, 'toy'),
    });
    const saved = JSON.parse(await readFile(join(dir, 'toy.json'), 'utf8')) as History;
    expect(saved.epochs).toEqual(h.epochs);
    expect(saved.trainLoss).toEqual(h.trainLoss);
    expect(saved.metrics).toEqual(h.metrics);
    const lines = polylines(await readFile(join(dir, 'toy.svg'), 'utf8'));
    expect(Object.keys(lines)).toEqual(['train loss', 'dev loss', 'accuracy']);
    expect(lines['train loss']).toHaveLength(3);
  });
});
