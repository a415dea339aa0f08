/**
 * Models exported by PyTorch (scripts/gen_real_models.py, torch 1.13, opset 17) import, match
 * PyTorch's output to 1e-4 (relative to the output's magnitude) and fine-tune step for step like
 * PyTorch's SGD. ResNet-18 is too large to commit: scripts/real-models.test.ts checks it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkRealModel } from './test-utils/real-models.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'real');

describe('PyTorch-exported models', () => {
  it('torchvision MobileNetV2 (width 0.25, FLOAT16 weights): output to 1e-4, 3 SGD steps like PyTorch', () => {
    const r = checkRealModel(DIR, 'mobilenet_v2_025');
    console.log(JSON.stringify(r));
    expect(r.maxRelDiff).toBeLessThan(1e-4);
    for (const d of r.lossDiffs) expect(d).toBeLessThan(1e-4);
    expect(r.losses[2]!).toBeLessThan(r.losses[0]!);
    expect(r.afterRelDiff).toBeLessThan(1e-3);
  });

  it('LSTM language model (Embedding → 2-layer LSTM → Linear): output to 1e-4, 3 SGD steps like PyTorch', () => {
    const r = checkRealModel(DIR, 'lstm_lm');
    console.log(JSON.stringify(r));
    expect(r.maxRelDiff).toBeLessThan(1e-4);
    for (const d of r.lossDiffs) expect(d).toBeLessThan(1e-4);
    expect(r.losses[2]!).toBeLessThan(r.losses[0]!);
    expect(r.afterRelDiff).toBeLessThan(1e-3);
  });
});
