import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, type Tensor } from '@kiln/tensor';
import { Adam } from '@kiln/optim';
import { DataLoader, TensorDataset, segmentationShapes } from '@kiln/data';
import { unet } from './index.js';
import { diceLoss, meanIou, pixelCrossEntropy, iouPerClass } from '../segmentation/index.js';

describe('trial', () => {
  it('trains', async () => {
    manualSeed(0);
    const train = segmentationShapes(512, { seed: 1 }), test = segmentationShapes(128, { seed: 2 });
    const model = unet({ inChannels: 3, numClasses: 4, depth: 2, baseChannels: 8 });
    const opt = new Adam(model.parameters(), { lr: 3e-3 });
    const loader = new DataLoader(new TensorDataset(train.x, train.masks), { batchSize: 32, shuffle: true, seed: 1 });
    const t0 = Date.now();
    for (let e = 0; e < 8; e++) {
      model.train();
      let tot = 0;
      for (const [x, y] of loader) {
        opt.zeroGrad();
        const o = model.forward(x as Tensor);
        const loss = pixelCrossEntropy(o, y as Tensor).add(diceLoss(o, y as Tensor));
        loss.backward(); opt.step(); tot += loss.item();
      }
      model.eval();
      const out = noGrad(() => model.forward(test.x));
      console.log(e, (Date.now() - t0) / 1000, tot, meanIou(out, test.masks), iouPerClass(out, test.masks).map((v) => v.toFixed(3)).join(' '));
    }
  }, 600_000);
});
