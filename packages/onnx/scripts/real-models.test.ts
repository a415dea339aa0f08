/**
 * ResNet-18 (torchvision, 11.7 M parameters, opset 17) — too large to commit. Generate it, then run:
 *   /usr/bin/python3 scripts/gen_real_models.py            (writes /tmp/kiln-real-models)
 *   npx vitest run --config scripts/vitest.real.config.ts  (KILN_REAL_MODELS=<dir> to change it)
 */
import { describe, expect, it } from 'vitest';
import { checkRealModel } from '../src/import/test-utils/real-models.js';

const DIR = process.env.KILN_REAL_MODELS ?? '/tmp/kiln-real-models';

describe('large PyTorch-exported models', () => {
  it('torchvision ResNet-18 (2×3×64×64): output to 1e-4, 3 SGD steps like PyTorch', () => {
    const r = checkRealModel(DIR, 'resnet18');
    console.log(JSON.stringify(r));
    expect(r.maxRelDiff).toBeLessThan(1e-4);
    for (const d of r.lossDiffs) expect(d).toBeLessThan(1e-3);
    expect(r.losses[2]!).toBeLessThan(r.losses[0]!);
    expect(r.afterRelDiff).toBeLessThan(1e-3);
  }, 600_000);
});
