/** convolutionalize: the FC head as convolutions equals the classifier on every sliding-window crop. */
import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, stack, tensor, type Tensor } from '@kiln/tensor';
import { AdaptiveAvgPool2d, BatchNorm1d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import { colorShapes } from '@kiln/data';
import { crossEntropy } from '@kiln/nn';
import { convolutionalize } from './sliding-window.js';

/**
 * A classifier for 14×14 crops: two valid conv/pool stages (stride 4) to 16×2×2, then a 2-layer
 * FC head. Valid (unpadded) convolutions: with padding, a crop's border sees zeros where the
 * large image has pixels, and the two would differ there.
 */
function classifier(): Sequential {
  return new Sequential(
    new Sequential(new Conv2d(3, 8, 3), new ReLU(), new MaxPool2d(2), new Conv2d(8, 16, 3), new ReLU(), new MaxPool2d(2)),
    new Flatten(), new Linear(64, 32), new ReLU(), new Dropout(0.1), new Linear(32, 4),
  );
}

describe('convolutionalize (sliding windows as convolutions)', () => {
  it('over a 48×48 image equals the classifier (after 48 Adam steps) on each of the 9×9 crops (14×14) at stride 4', () => {
    manualSeed(0);
    const model = classifier();
    const data = colorShapes(512, { size: 14, seed: 4 });
    const opt = new Adam(model.parameters(), { lr: 3e-3 });
    const first: number[] = []; // losses
    for (let s = 0; s < 48; s++) {
      const x = data.x.narrow(0, (s % 16) * 32, 32), y = data.y.narrow(0, (s % 16) * 32, 32);
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(x), y);
      first.push(loss.item());
      loss.backward();
      opt.step();
    }
    // (the equivalence holds for any weights; the steps only move them away from their initialisation)
    expect(first.every(Number.isFinite)).toBe(true);
    model.eval();
    const conv = convolutionalize(model, [3, 14, 14]);
    const big = colorShapes(2, { size: 48, seed: 9 }).x;
    const dense = noGrad(() => conv.forward(big));
    expect(dense.shape).toEqual([2, 4, 9, 9]);
    const crops: Tensor[] = [];
    for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) crops.push(big.narrow(2, 4 * i, 14).narrow(3, 4 * j, 14));
    // per-crop outputs [2, 81, 4] → [2, 4, 9, 9]
    const perCrop = noGrad(() => stack(crops.map((c) => model.forward(c)), 1)).permute(0, 2, 1).reshape(2, 4, 9, 9);
    const a = dense.dataSync(), b = perCrop.dataSync();
    let worst = 0, mag = 0;
    for (let k = 0; k < a.length; k++) { worst = Math.max(worst, Math.abs(a[k]! - b[k]!)); mag = Math.max(mag, Math.abs(b[k]!)); }
    console.log(`convolutionalize: 2×81 crops, max |conv − per-crop| ${worst.toExponential(2)} (outputs up to ${mag.toFixed(2)})`);
    expect(worst).toBeLessThan(1e-5 * Math.max(1, mag));
    // the converted head: Conv2d 16→32 with a 2×2 kernel, then a 1×1 Conv2d 32→4
    const convs = conv.children().filter((m) => m instanceof Conv2d) as Conv2d[];
    expect(convs.slice(-2).map((c) => c.weight.shape)).toEqual([[32, 16, 2, 2], [4, 32, 1, 1]]);
  });

  it('bad input names the layer and the shapes', () => {
    const m = classifier();
    expect(() => convolutionalize(m, [3, 20, 20])).toThrow(/Kiln: convolutionalize: Linear at head position 0 expects 64 inputs but receives 16×3×3 = 144 for inputShape \[3, 20, 20\]/);
    expect(() => convolutionalize(new Sequential(new Conv2d(3, 4, 3), new Linear(4, 2)), [3, 8, 8])).toThrow(/convolutionalize: the classifier has no Flatten layer/);
    expect(() => convolutionalize(new Sequential(new Conv2d(3, 4, 3), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 2)), [3, 8, 8])).toThrow(/convolutionalize: layer 1 \(AdaptiveAvgPool2d\) pools the whole feature map/);
    expect(() => convolutionalize(new Sequential(new Conv2d(3, 4, 3), new Flatten(), new BatchNorm1d(144), new Linear(144, 2)), [3, 8, 8])).toThrow(/convolutionalize: cannot convert BatchNorm1d at head position 0/);
    expect(() => convolutionalize(m, [3, 16] as never)).toThrow(/convolutionalize: inputShape must be \[C, H, W\] of positive integers, got \[3,16\]/);
    void tensor;
  });
});
