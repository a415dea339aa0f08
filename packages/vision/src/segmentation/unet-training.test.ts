/**
 * Issue 14 (4.3.1.10–13): a small U-Net learns @kiln/data's segmentationShapes (32×32, one or
 * two shapes per image, foreground/background masks) with pixel-wise cross-entropy + Dice loss,
 * to mean IoU >= 0.85 on held-out images.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, type Tensor } from '@kiln/tensor';
import { Adam, LRScheduler, cosineAnnealing } from '@kiln/optim';
import { DataLoader, TensorDataset, segmentationShapes } from '@kiln/data';
import { unet } from '../models/index.js';
import { diceLoss, iouPerClass, meanIou, pixelCrossEntropy } from './index.js';

const TARGET = 0.85;
const SET = { numClasses: 1, minObjects: 1, maxObjects: 2 } as const;
const EPOCHS = 6;

describe('U-Net on generated shapes', () => {
  it(`reaches mean IoU >= ${TARGET} held out`, () => {
    manualSeed(0);
    const train = segmentationShapes(256, { seed: 1, ...SET }), test = segmentationShapes(128, { seed: 2, ...SET });
    const model = unet({ inChannels: 3, numClasses: 2, depth: 2, baseChannels: 8 });
    const loader = new DataLoader(new TensorDataset(train.x, train.masks), { batchSize: 16, shuffle: true, seed: 1 });
    // Adam at 5e-3, cosine-annealed to 5% over the 96 steps. A constant 1e-2 ended on an
    // oscillating loss: mean IoU 0.876 / 0.729 / 0.880 for weight seeds 0 / 1 / 2; this schedule,
    // at the same cost, 0.933 / 0.892 / 0.929.
    const opt = new Adam(model.parameters(), { lr: 5e-3 });
    const sched = new LRScheduler(opt, cosineAnnealing(5e-3, EPOCHS * loader.length, 5e-3 * 0.05));
    const cpu0 = process.cpuUsage();
    const losses: number[] = [];
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      model.train();
      let sum = 0, count = 0;
      for (const [x, y] of loader) {
        opt.zeroGrad();
        const logits = model.forward(x as Tensor);
        const loss = pixelCrossEntropy(logits, y as Tensor).add(diceLoss(logits, y as Tensor));
        loss.backward();
        opt.step();
        sched.step();
        sum += loss.item();
        count++;
      }
      losses.push(sum / count);
    }
    model.eval();
    const out = noGrad(() => model.forward(test.x));
    const miou = meanIou(out, test.masks), per = iouPerClass(out, test.masks);
    const cpu = process.cpuUsage(cpu0);
    console.log(`U-Net (depth 2, base 8) on segmentationShapes: loss ${losses.map((l) => l.toFixed(3)).join(' → ')}; held-out mean IoU ${miou.toFixed(3)} (background ${per[0]!.toFixed(3)}, shapes ${per[1]!.toFixed(3)}); ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(miou).toBeGreaterThanOrEqual(TARGET);
  });
});
