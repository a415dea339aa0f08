import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '@kiln/tensor';
import { mnistSplits } from './data.js';
import { makeMlp } from './train-mlp.js';
import { makeLeNet5 } from './train-lenet.js';
import { decodeModel } from '@kiln/onnx';
import { checkOnOrt } from './onnx-check.js';
import { confusionMatrixSvg, misclassifiedSvg } from './pictures.js';
import { decodePng } from '@kiln/vision';

const data = mnistSplits();
let dir = '';
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

describe('demo pieces', () => {
  it('splits the bundled digits into 8,000 train, 1,000 dev and 1,000 test digits, disjoint', () => {
    expect(data.trainX.shape).toEqual([8000, 1, 28, 28]);
    expect(data.devX.shape).toEqual([1000, 1, 28, 28]);
    expect(data.testX.shape).toEqual([1000, 1, 28, 28]);
    expect(data.testRaw.shape).toEqual([1000, 1, 28, 28]);
    expect([data.trainY, data.devY, data.testY].map((t) => t.shape[0])).toEqual([8000, 1000, 1000]);
    // every digit class appears in dev and test
    expect(new Set(data.devY.dataSync() as Int32Array).size).toBe(10);
    expect(new Set(data.testY.dataSync() as Int32Array).size).toBe(10);
    // no dev or test image is also a train image (compare a cheap fingerprint of each row)
    const fp = (x: Float32Array, n: number) => Array.from({ length: n }, (_, i) => x.subarray(i * 784, (i + 1) * 784).join(','));
    const train = new Set(fp(data.trainX.dataSync() as Float32Array, 8000));
    for (const x of [data.devX, data.testX]) {
      const shared = fp(x.dataSync() as Float32Array, 1000).filter((r) => train.has(r)).length;
      expect(shared).toBeLessThan(5); // the package may hold a few identical digits, not whole overlaps
    }
    // testRaw is the test set before standardisation
    const raw = data.testRaw.dataSync() as Float32Array, std = data.testX.dataSync() as Float32Array;
    for (const i of [0, 400, 783_999]) expect((raw[i]! - data.mean) / data.std).toBeCloseTo(std[i]!, 4);
  });

  it('standardises the pixels with train statistics: train mean 0 and std 1, test close', () => {
    const stats = (x: Float32Array) => {
      let s = 0, q = 0;
      for (const v of x) { s += v; q += v * v; }
      const m = s / x.length;
      return [m, Math.sqrt(q / x.length - m * m)];
    };
    const [tm, ts] = stats(data.trainX.dataSync() as Float32Array), [dm, ds] = stats(data.testX.dataSync() as Float32Array);
    expect(tm).toBeCloseTo(0, 4);
    expect(ts).toBeCloseTo(1, 4);
    expect(Math.abs(dm!)).toBeLessThan(0.05);
    expect(Math.abs(ds! - 1)).toBeLessThan(0.05);
    expect(data.mean).toBeGreaterThan(0.1); // raw pixels in [0, 1], mostly background
    expect(data.mean).toBeLessThan(0.16);
  });

  it('exports the MLP and LeNet-5 to ONNX and gets the same predictions from onnxruntime-node', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-demo-'));
    manualSeed(0);
    const x = data.devX.slice(0, 0, 60), y = data.devY.slice(0, 0, 60);
    const mlp = await checkOnOrt(makeMlp(), x.reshape([60, 784]), y, join(dir, 'mlp.onnx'), { batchSize: 25 });
    const lenet = await checkOnOrt(makeLeNet5(), x, y, join(dir, 'lenet5.onnx'), { batchSize: 25, metadata: { note: 'x' } });
    for (const r of [mlp, lenet]) {
      expect(r.maxAbsDiff).toBeLessThan(1e-4);
      expect(r.ortAccuracy).toBe(r.kilnAccuracy);
      expect(r.predicted).toHaveLength(60);
      expect(Array.from(r.confidence).every((c) => c >= 0.1 - 1e-6 && c <= 1 + 1e-6)).toBe(true); // max of 10 probabilities
      const bytes = await readFile(r.path);
      expect(bytes.byteLength).toBeGreaterThan(1000);
    }
    const meta = decodeModel(new Uint8Array(await readFile(lenet.path))).metadataProps ?? [];
    expect(meta).toContainEqual(expect.objectContaining({ key: 'note', value: 'x' }));
  });
});

describe('pictures', () => {
  it('confusion matrix: one cell per (true, predicted) pair with its count, the total right in the caption', () => {
    const cm = [[5, 1, 0], [0, 3, 2], [1, 0, 8]];
    const svg = confusionMatrixSvg(cm, ['a', 'b', 'c'], 'Toy');
    const cells = [...svg.matchAll(/class="cell" data-true="(\d)" data-pred="(\d)" data-count="(\d+)"/g)].map((m) => m.slice(1).map(Number));
    expect(cells).toHaveLength(9);
    for (const [t, p, v] of cells) expect(v).toBe(cm[t!]![p!]);
    expect(svg).toContain('16 of 20 right (80.00%)');
    expect(() => confusionMatrixSvg([[1]], ['a', 'b'], 'x')).toThrow(/must be 2×2/);
  });

  it('misclassified grid: one captioned image per miss', () => {
    const img = new Float32Array(784).fill(0.5);
    const svg = misclassifiedSvg([{ image: img, label: 4, predicted: 9, confidence: 0.87 }, { image: img, label: 7, predicted: 1, confidence: 0.5 }], 28, 10, 'Misses');
    expect(svg.match(/<image class="miss"/g)).toHaveLength(2);
    expect(svg).toContain('>4 → 9 (87%)</text>');
    expect(svg).toContain('data-true="7" data-pred="1"');
    const b64 = /href="data:image\/png;base64,([^"]+)"/.exec(svg)![1]!;
    const png = decodePng(new Uint8Array(Buffer.from(b64, 'base64')));
    expect([png.width, png.height, png.channels]).toEqual([28, 28, 1]);
    expect(png.data[10 * 28 + 10]).toBe(128);
  });
});
