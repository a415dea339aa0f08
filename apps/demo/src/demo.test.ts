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

const data = mnistSplits();
let dir = '';
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

describe('demo pieces', () => {
  it('splits the 10,000 bundled digits into 8,000 train and 2,000 disjoint dev digits', () => {
    expect(data.trainX.shape).toEqual([8000, 1, 28, 28]);
    expect(data.devX.shape).toEqual([2000, 1, 28, 28]);
    expect(data.trainY.shape).toEqual([8000]);
    expect(data.devY.shape).toEqual([2000]);
    // every digit class appears in the dev set
    expect(new Set(data.devY.dataSync() as Int32Array).size).toBe(10);
    // no dev image is also a train image (compare a cheap fingerprint of each row)
    const fp = (x: Float32Array, n: number) => Array.from({ length: n }, (_, i) => x.subarray(i * 784, (i + 1) * 784).join(','));
    const train = new Set(fp(data.trainX.dataSync() as Float32Array, 8000));
    const shared = fp(data.devX.dataSync() as Float32Array, 2000).filter((r) => train.has(r)).length;
    expect(shared).toBeLessThan(5); // the package may hold a few identical digits, not whole overlaps
  });

  it('standardises the pixels with train statistics: train mean 0 and std 1, dev close', () => {
    const stats = (x: Float32Array) => {
      let s = 0, q = 0;
      for (const v of x) { s += v; q += v * v; }
      const m = s / x.length;
      return [m, Math.sqrt(q / x.length - m * m)];
    };
    const [tm, ts] = stats(data.trainX.dataSync() as Float32Array), [dm, ds] = stats(data.devX.dataSync() as Float32Array);
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
      const bytes = await readFile(r.path);
      expect(bytes.byteLength).toBeGreaterThan(1000);
    }
    const meta = decodeModel(new Uint8Array(await readFile(lenet.path))).metadataProps ?? [];
    expect(meta).toContainEqual(expect.objectContaining({ key: 'note', value: 'x' }));
  });
});
