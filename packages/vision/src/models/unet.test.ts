/** U-Net: structure, keys, input errors, ONNX export with ONNX Runtime parity and import. */
import { describe, expect, it } from 'vitest';
import { createSession, exportOnnx, importOnnx, runSession } from '@kiln/onnx';
import { manualSeed, noGrad, randn, type Tensor } from '@kiln/tensor';
import { gradcheckModule } from '@kiln/nn';
import { randomInput } from '@kiln/tensor/testing';
import { unet } from './index.js';
import { hashFill } from './test-utils/hash-weights.js';
import { relativeError } from './test-utils/fixtures.js';

describe('unet', () => {
  it('maps [N, C, H, W] to per-pixel logits of the same size; torchvision-style dotted keys', () => {
    manualSeed(0);
    const m = unet({ inChannels: 3, numClasses: 5, depth: 3, baseChannels: 4 });
    const y = noGrad(() => m.forward(randn([2, 3, 24, 16])));
    expect(y.shape).toEqual([2, 5, 24, 16]);
    const keys = Object.keys(m.stateDict());
    expect(keys).toContain('inc.0.weight');
    expect(keys).toContain('down.2.1.4.running_var'); // third level, second BatchNorm
    expect(keys).toContain('up.0.up.weight'); // deepest transposed conv: 32 → 16 channels
    expect(m.stateDict()['up.0.up.weight']!.shape).toEqual([32, 16, 2, 2]);
    expect(m.stateDict()['up.0.conv.0.weight']!.shape).toEqual([16, 32, 3, 3]); // skip (16) + upsampled (16)
    expect(keys).toContain('outc.bias');
    expect(Object.keys(unet({ batchNorm: false, depth: 1, baseChannels: 2 }).stateDict())).toEqual([
      'inc.0.weight', 'inc.0.bias', 'inc.2.weight', 'inc.2.bias', 'down.0.1.0.weight', 'down.0.1.0.bias', 'down.0.1.2.weight', 'down.0.1.2.bias',
      'up.0.up.weight', 'up.0.up.bias', 'up.0.conv.0.weight', 'up.0.conv.0.bias', 'up.0.conv.2.weight', 'up.0.conv.2.bias', 'outc.weight', 'outc.bias',
    ]);
  });

  it('gradcheck (float64) of a tiny U-Net: every parameter and the input, through pools, transposed convs and skips', () => {
    manualSeed(2);
    const m = unet({ inChannels: 1, numClasses: 2, depth: 1, baseChannels: 2, batchNorm: false });
    const x = randomInput([1, 1, 4, 4], 5);
    const w = randomInput([1, 2, 4, 4], 6).detach();
    const r = gradcheckModule(m, [x], (y) => y.mul(w).sum());
    expect(r.ok, `relative error ${r.relativeError}`).toBe(true);
  });

  it('bad input and options name the model, option and shape', () => {
    const m = unet({ inChannels: 1, numClasses: 2, depth: 2, baseChannels: 4 });
    expect(() => m.forward(randn([1, 3, 16, 16]))).toThrow(/Kiln: unet: expected images \[N, 1, H, W\] \(inChannels 1\), got input of shape \[1,3,16,16\]/);
    expect(() => m.forward(randn([1, 1, 18, 16]))).toThrow(/unet: input height and width must be divisible by 2\^depth = 4 \(depth 2\), got input of shape \[1,1,18,16\]/);
    expect(() => unet({ depht: 2 } as never)).toThrow(/unet: unknown option 'depht'/);
    expect(() => unet({ baseChannels: 0 })).toThrow(/unet: option 'baseChannels' must be a positive integer, got 0/);
  });

  it('exports to ONNX (opset 18, dynamic batch) and matches ONNX Runtime; imports back', async () => {
    const m = unet({ inChannels: 3, numClasses: 4, depth: 2, baseChannels: 8 });
    hashFill(m.stateDict());
    m.eval();
    manualSeed(1);
    const x1 = randn([1, 3, 32, 32]), x3 = randn([3, 3, 32, 32]);
    const bytes = exportOnnx(m, x1, { opset: 18, dynamicAxes: true });
    const session = await createSession(bytes);
    const errs: number[] = [];
    for (const x of [x1, x3]) {
      const ours = noGrad(() => m.forward(x));
      errs.push(relativeError((await runSession(session, { input: x })).output!, ours));
    }
    const imported = importOnnx(bytes);
    const importErr = relativeError(noGrad(() => imported.forward(x3) as Tensor), noGrad(() => m.forward(x3)));
    console.log(`ONNX unet(depth 2, base 8): ORT relative error batch 1 ${errs[0]!.toExponential(2)}, batch 3 ${errs[1]!.toExponential(2)}; imported ${importErr.toExponential(2)}`);
    expect(errs[0]).toBeLessThan(1e-4);
    expect(errs[1]).toBeLessThan(1e-4);
    expect(importErr).toBeLessThan(1e-4);
  });
});
