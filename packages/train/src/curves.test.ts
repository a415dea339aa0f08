import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '@kiln/tensor';
import { crossEntropy } from '@kiln/nn';
import { SGD } from '@kiln/optim';
import { fit, learningCurvesSvg, saveLearningCurves, type History } from './index.js';
import { accuracyMetric, toySetup } from './test-utils/toy.js';

const dirs: string[] = [];
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-train-curves-'));
  dirs.push(d);
  return d;
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
    // every series shares one scale: equal values map to the same height
    const y = (v: number) => {
      const [a, b] = [train[0]!, train[3]!];
      return a[1] + ((v - 1.2) / (0.4 - 1.2)) * (b[1] - a[1]);
    };
    expect(lines.accuracy![2]![1]).toBeCloseTo(y(0.8), 0);
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
