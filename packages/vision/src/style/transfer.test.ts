/** featureExtractor on zoo models, and styleTransfer with a small network. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, noGrad, Tensor, randn } from '@kiln/tensor';
import { Conv2d, MaxPool2d, ReLU, Sequential } from '@kiln/nn';
import { colorShapes } from '@kiln/data';
import { resnet18, vgg11 } from '../models/index.js';
import { layerOutput } from '../visualize/index.js';
import { decodePng } from '../image/index.js';
import { featureExtractor, styleTransfer } from './index.js';

const same = (a: Tensor, b: Tensor) => {
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
};

describe('featureExtractor', () => {
  it('returns named activations of a ResNet equal to layerOutput, in order, and stops after the last one', () => {
    manualSeed(1);
    const model = resnet18({ widthDivisor: 8, numClasses: 10 });
    model.eval();
    const x = randn([2, 3, 32, 32]);
    const fx = featureExtractor(model, ['layer2', 'layer1', 'layer2.0.conv1']);
    let fcRan = false;
    const fc = model.fc, inner = fc.forward.bind(fc);
    fc.forward = (t: Tensor) => { fcRan = true; return inner(t); };
    const f = noGrad(() => fx.forward(x));
    expect(Object.keys(f)).toEqual(['layer2', 'layer1', 'layer2.0.conv1']);
    expect(fcRan).toBe(false);
    for (const name of fx.layers) same(f[name]!, layerOutput(model, name, x));
    expect(f.layer2!.shape).toEqual([2, 16, 4, 4]);
    // the hooks are removed: a plain forward runs the whole model again
    noGrad(() => model.forward(x));
    expect(fcRan).toBe(true);
  });

  it("works on VGG's dotted Sequential names and lets gradients reach the input", () => {
    manualSeed(2);
    const model = vgg11({ widthDivisor: 8, hidden: 16, numClasses: 10 });
    model.eval();
    const x = randn([1, 3, 32, 32]).requiresGrad_();
    const f = featureExtractor(model, ['features.3', 'features.0']).forward(x);
    same(f['features.0']!.detach(), layerOutput(model, 'features.0', x.detach()));
    f['features.3']!.square().sum().backward();
    expect(x.grad).not.toBeNull();
    expect(Math.max(...Array.from(x.grad!.dataSync(), Math.abs))).toBeGreaterThan(0);
  });

  it('unknown or duplicate layer names are errors naming them and the model', () => {
    const model = resnet18({ widthDivisor: 8 });
    expect(() => featureExtractor(model, ['layer2', 'layer9', 'conv'])).toThrow(/Kiln: featureExtractor: unknown layer names 'layer9', 'conv' in ResNet \(layers: conv1, bn1, relu, maxpool, layer1, /);
    expect(() => featureExtractor(model, [])).toThrow(/layerNames must be a non-empty array of dotted module names, got \[\]/);
    expect(() => featureExtractor(model, ['layer1', 'layer1'])).toThrow(/layerNames has duplicates/);
  });
});

/** A small random-weight feature network; random conv features carry enough texture for style. */
function smallNet(): Sequential {
  return new Sequential(
    new Conv2d(3, 16, 3, { padding: 1 }), new ReLU(),
    new Conv2d(16, 16, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2),
    new Conv2d(16, 32, 3, { padding: 1 }), new ReLU(),
  );
}

/** Diagonal stripes of two colours: a style with strong, simple channel correlations. */
function stripes(size: number): Tensor {
  const d = new Float32Array(3 * size * size);
  const a = [0.9, 0.2, 0.1], b = [0.1, 0.3, 0.8];
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const c = Math.floor((x + y) / 3) % 2 === 0 ? a : b;
    for (let k = 0; k < 3; k++) d[k * size * size + y * size + x] = c[k]!;
  }
  return new Tensor(d, [3, size, size], 'float32');
}

describe('styleTransfer', () => {
  it('lowers the total cost, takes the style cost far below the content image’s, reports progress and writes a PNG', async () => {
    manualSeed(3);
    const model = smallNet();
    const content = colorShapes(1, { size: 24, seed: 4 }).x.squeeze(0);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-style-'));
    const seen: number[] = [];
    try {
      const out = join(dir, 'styled.png');
      const r = await styleTransfer({
        content, style: stripes(24), model, steps: 60, lr: 0.05, beta: 1000, output: out, progressEvery: 20,
        layers: { content: '5', style: { '1': 0.4, '3': 0.3, '6': 0.3 } }, onProgress: (p) => seen.push(p.step), mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25],
      });
      const first = r.history[0]!, last = r.history.at(-1)!;
      console.log(`styleTransfer (24×24, 60 Adam steps, β 1000): total cost ${first.total.toExponential(3)} → ${last.total.toExponential(3)}; style cost of the content image ${r.contentImageStyleCost.toExponential(3)}, of the result ${r.finalStyleCost.toExponential(3)} (ratio ${(r.finalStyleCost / r.contentImageStyleCost).toExponential(2)})`);
      expect(seen).toEqual([0, 20, 40, 60]);
      expect(last.total).toBeLessThan(0.5 * first.total);
      expect(r.finalStyleCost).toBeLessThan(0.1 * r.contentImageStyleCost);
      expect(r.image.shape).toEqual([3, 24, 24]);
      const pix = r.image.dataSync();
      expect(Math.min(...pix)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...pix)).toBeLessThanOrEqual(1);
      const png = decodePng(readFileSync(out));
      expect([png.width, png.height, png.channels]).toEqual([24, 24, 3]);
      // the network is left as it was: training mode, parameters trainable
      expect(model.training).toBe(true);
      expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad input: unknown layers, wrong image shapes, unknown options', async () => {
    const model = smallNet(), img = stripes(8);
    await expect(styleTransfer({ content: img, style: img, model, layers: { content: '5', style: ['1', 'features.9'] } }))
      .rejects.toThrow(/featureExtractor: unknown layer name 'features.9' in Sequential/);
    await expect(styleTransfer({ content: img.unsqueeze(0).expand([2, 3, 8, 8]), style: img, model, layers: { content: '5', style: ['1'] } }))
      .rejects.toThrow(/styleTransfer: content must be an image \[C, H, W\] or \[1, C, H, W\], got \[2,3,8,8\]/);
    await expect(styleTransfer({ content: img, style: img, model, layers: { content: '5', style: ['1'] }, mean: [0.5, 0.5] }))
      .rejects.toThrow(/styleTransfer: option 'mean' must be an array of 3 numbers, got \[0.5,0.5\]/);
    await expect(styleTransfer({ content: img, style: img, model, layers: { content: '5', style: ['1'] }, std: 'wide' as never }))
      .rejects.toThrow(/styleTransfer: option 'std' must be an array of finite numbers, got 'wide'/);
    await expect(styleTransfer({ content: img, style: img, model, layers: { content: '5', style: ['1'] }, iterations: 3 } as never))
      .rejects.toThrow(/styleTransfer: unknown option 'iterations'/);
  });
});
