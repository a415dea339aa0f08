import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, randn, tensor, zeros, noGrad, type Tensor } from '@kiln/tensor';
import { Module, Sequential, Conv2d, ReLU, MaxPool2d, AvgPool2d, BatchNorm2d, Linear, Flatten } from '@kiln/nn';
import { makeGrid, receptiveField, measuredReceptiveField, layerOutput, featureMapGrid, saveFeatureMaps, topActivatingPatches, saveTopPatches } from './index.js';
import { decodePng } from '../image/index.js';

describe('receptiveField', () => {
  it('LeNet-5: 16 pixels, jump 4 after the second pool', () => {
    const net = new Sequential(new Conv2d(1, 6, 5, { padding: 2 }), new ReLU(), new MaxPool2d(2), new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(400, 10));
    expect(receptiveField(net, '0')).toEqual({ size: [5, 5], jump: [1, 1], start: [0, 0] });
    expect(receptiveField(net, '3')).toEqual({ size: [14, 14], jump: [2, 2], start: [4.5, 4.5] });
    expect(receptiveField(net, net.at(5))).toEqual({ size: [16, 16], jump: [4, 4], start: [5.5, 5.5] });
  });
  it('equals the region where a unit\'s input gradient is non-zero (linear net: stride, dilation, padding, nesting)', () => {
    manualSeed(3);
    const net = new Sequential(
      new Conv2d(1, 2, [5, 3], { padding: [2, 1] }), new BatchNorm2d(2), new AvgPool2d(2),
      new Sequential(new Conv2d(2, 2, 3, { stride: 2, dilation: 2, padding: 1 }), new Conv2d(2, 1, 3, { padding: 'same' })),
    );
    net.eval();
    const field = receptiveField(net, '3.1');
    const x = randn([1, 1, 48, 48], { requiresGrad: true });
    const out = net.forward(x) as Tensor;
    const [uy, ux] = [3, 4];
    out.narrow(2, uy, 1).narrow(3, ux, 1).sum().backward();
    const g = x.grad!.dataSync();
    let y0 = 99, y1 = -1, x0 = 99, x1 = -1;
    for (let i = 0; i < 48 * 48; i++) if (g[i] !== 0) { const yy = Math.floor(i / 48), xx = i % 48; y0 = Math.min(y0, yy); y1 = Math.max(y1, yy); x0 = Math.min(x0, xx); x1 = Math.max(x1, xx); }
    expect([y1 - y0 + 1, x1 - x0 + 1]).toEqual(field.size);
    expect([(y0 + y1) / 2, (x0 + x1) / 2]).toEqual([field.start[0] + uy * field.jump[0], field.start[1] + ux * field.jump[1]]);
  });
  it('measuredReceptiveField agrees with the derived field on a chain, and follows residual blocks', () => {
    manualSeed(4);
    const chain = new Sequential(new Conv2d(1, 3, 5, { padding: 2 }), new AvgPool2d(2), new Conv2d(3, 3, 3, { padding: 1 }));
    expect(measuredReceptiveField(chain, '2', [1, 32, 32])).toEqual(receptiveField(chain, '2'));
    class Residual extends Module {
      conv = new Conv2d(2, 2, 3, { padding: 1, stride: 2 });
      skip = new Conv2d(2, 2, 1, { stride: 2 });
      override forward(x: Tensor): Tensor { return this.skip.forward(x).add(this.conv.forward(x)); }
    }
    const res = new Sequential(new Conv2d(1, 2, 3, { padding: 1 }), new Residual());
    expect(measuredReceptiveField(res, '1', [1, 16, 16])).toEqual({ size: [5, 5], jump: [2, 2], start: [0, 0] });
    expect(() => measuredReceptiveField(res, '1', [1, 16, 16], { trials: 0 })).toThrow(/^Kiln: measuredReceptiveField: option 'trials' must be a positive integer, got 0$/);
    expect(() => measuredReceptiveField(res, '1', [1, 16, 16], { trial: 8 } as never)).toThrow(/^Kiln: measuredReceptiveField: unknown option 'trial' \(known: trials\)$/);
  });
  it('names what it cannot follow', () => {
    class Residual extends Module {
      conv = new Conv2d(1, 1, 3, { padding: 1 });
      override forward(x: Tensor): Tensor { return x.add(this.conv.forward(x)); }
    }
    const net = new Sequential(new Residual(), new Conv2d(1, 1, 3));
    expect(() => receptiveField(net, '0.conv')).toThrow(/receptiveField: cannot follow the path to '0.conv' through Residual/);
    expect(() => receptiveField(net, '1')).toThrow(/receptiveField: cannot compute a receptive field through Residual on the way to '1'/);
    expect(() => receptiveField(net, 'nope')).toThrow(/receptiveField: no layer 'nope' in Sequential \(layers: 0, 0.conv, 1\)/);
  });
});

describe('makeGrid', () => {
  it('tiles with padding, rows of nrow, optional per-image min–max and scale', () => {
    const imgs = tensor([[[[0, 2]]], [[[4, 8]]], [[[1, 1]]]]); // [3, 1, 1, 2]
    const g = makeGrid(imgs, { nrow: 2, padding: 1, padValue: -1 });
    expect(g.shape).toEqual([1, 5, 7]);
    expect(Array.from(g.dataSync()).slice(7, 14)).toEqual([-1, 0, 2, -1, 4, 8, -1]);
    const e = makeGrid(imgs, { nrow: 3, padding: 0, normalize: 'each', scale: 2 });
    expect(e.shape).toEqual([1, 2, 12]);
    expect(Array.from(e.dataSync()).slice(0, 12)).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0]);
    expect(() => makeGrid(imgs, { nrows: 2 } as never)).toThrow(/makeGrid: unknown option 'nrows'/);
    expect(() => makeGrid(imgs, { scale: 0 })).toThrow(/makeGrid: option 'scale' must be a positive integer, got 0/);
  });
});

describe('feature maps and top-activating patches', () => {
  /** A spot detector: 3×3 box filter → ReLU → pool → 3×3 box filter. */
  function spotNet(): Sequential {
    const net = new Sequential(new Conv2d(1, 2, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Conv2d(2, 2, 3));
    noGrad(() => {
      for (const i of [0, 3]) {
        const c = net.at(i) as Conv2d;
        c.weight.fill_(1 / 9);
        c.bias!.zero_();
        c.weight.narrow(0, 1, 1).mul_(-1); // channel 1 responds to the opposite
      }
    });
    return net;
  }
  it('layerOutput captures an inner layer without changing the model', () => {
    const net = spotNet(), x = randn([2, 1, 16, 16]);
    const out = layerOutput(net, '2', x);
    expect(out.shape).toEqual([2, 2, 8, 8]);
    expect(Array.from((net.forward(x) as Tensor).dataSync())).toEqual(Array.from(noGrad(() => net.forward(x) as Tensor).dataSync()));
    expect(() => layerOutput(net, '9', x)).toThrow(/layerOutput: no layer '9'/);
  });
  it('crops the bright spots, brightest first', async () => {
    const n = 12, s = 24, d = new Float32Array(n * s * s), spots: [number, number, number][] = [];
    for (let i = 0; i < n; i++) {
      const y = 3 + ((i * 7) % 17), x = 3 + ((i * 11) % 17), v = 0.3 + i / n;
      spots.push([y, x, v]);
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) d[i * s * s + (y + dy) * s + x + dx] = v;
    }
    const images = tensor(d, { shape: [n, 1, s, s] });
    const top = topActivatingPatches(spotNet(), '3', images, [0], { k: 4 });
    expect(top.field).toEqual({ size: [8, 8], jump: [2, 2], start: [2.5, 2.5] });
    expect(top.patches.shape).toEqual([4, 1, 8, 8]);
    expect(top.hits[0]!.map((h) => h.image)).toEqual([11, 10, 9, 8]); // the brightest spots
    const p = top.patches.dataSync();
    for (let j = 0; j < 4; j++) {
      // the spot lies inside the crop, fully: its 9 pixels are all there
      let sum = 0;
      for (let q = 0; q < 64; q++) sum += p[j * 64 + q]!;
      expect(sum).toBeCloseTo(9 * spots[top.hits[0]![j]!.image]![2], 4);
    }
    const tmp = mkdtempSync(join(tmpdir(), 'kiln-vis-'));
    try {
      await saveTopPatches(join(tmp, 'top.png'), top);
      // one row per unit: an nrow used to be overridden silently
      await expect(saveTopPatches(join(tmp, 'top2.png'), top, { nrow: 2 } as never)).rejects.toThrow(/^Kiln: saveTopPatches: unknown option 'nrow' \(known: padding, padValue, scale, normalize\)$/);
      const png = decodePng(new Uint8Array(readFileSync(join(tmp, 'top.png'))));
      expect([png.width, png.height, png.channels]).toEqual([4 * (32 + 2) + 2, 32 + 4, 1]); // 8-px patches scaled 4×
      await saveFeatureMaps(join(tmp, 'maps.png'), spotNet(), '0', images.narrow(0, 0, 1).squeeze(0));
      const maps = decodePng(new Uint8Array(readFileSync(join(tmp, 'maps.png'))));
      expect([maps.width, maps.height]).toEqual([2 * (48 + 1) + 1, 48 + 2]); // 2 maps of 24 px scaled 2×
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(featureMapGrid(spotNet(), '0', zeros([1, 8, 8]), { maxMaps: 1 }).shape).toEqual([1, 50, 50]);
    // a normalize option used to be overridden without a word; maxMaps 0 drew an empty grid
    expect(() => featureMapGrid(spotNet(), '0', zeros([1, 8, 8]), { normalize: 'all' } as never)).toThrow(/^Kiln: featureMapGrid: unknown option 'normalize' \(known: maxMaps, nrow, padding, padValue, scale\)$/);
    expect(() => featureMapGrid(spotNet(), '0', zeros([1, 8, 8]), { maxMaps: 0 })).toThrow(/^Kiln: featureMapGrid: option 'maxMaps' must be a positive integer, got 0$/);
    expect(() => topActivatingPatches(spotNet(), '3', images, [5])).toThrow(/topActivatingPatches: unit 5 out of range for a layer with 2 channels/);
  });
});
