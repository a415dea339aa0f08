import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, randn, type Tensor } from '@kiln/tensor';
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, crossEntropy, type Module } from '@kiln/nn';
import { SGD } from '@kiln/optim';
import { DataLoader, TensorDataset } from '@kiln/data';
import { freeze, unfreeze, isFrozen, trainableParameters, cacheFeatures, loadCachedFeatures } from './index.js';

function makeTrunk(): Sequential {
  return new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), new Flatten());
}
const values = (t: Tensor) => Array.from(t.dataSync() as Float32Array);
const bn = (trunk: Sequential) => trunk.at(1) as BatchNorm2d;

describe('freeze / unfreeze', () => {
  it('turns gradients off and pins batch norm to eval statistics even under model.train()', () => {
    manualSeed(0);
    const trunk = makeTrunk(), head = new Linear(4 * 4 * 4, 3), model = new Sequential(trunk, head);
    // give BN running statistics that differ from any batch's
    bn(trunk).running_mean!.add_(0.3);
    bn(trunk).running_var!.mul_(2);
    const before = values(bn(trunk).running_mean!);
    freeze(trunk);
    model.train();
    expect(isFrozen(trunk)).toBe(true);
    expect(isFrozen(model)).toBe(false);
    expect(trainableParameters(model)).toEqual(head.parameters());
    expect(bn(trunk).training).toBe(false);
    expect(trunk.at(0).training).toBe(true); // only batch norms are pinned
    const x = randn([8, 1, 8, 8]);
    const out = model.forward(x) as Tensor;
    expect(values(bn(trunk).running_mean!)).toEqual(before); // no statistics update
    // the frozen trunk in "train" mode computes what it computes in eval mode
    trunk.eval();
    expect(values(trunk.forward(x) as Tensor)).toEqual(values((model.at(0) as Module).forward(x) as Tensor));
    trunk.train();
    crossEntropy(out, randn([8]).abs().mul(2).floor().clamp(0, 2).to('int32')).backward();
    for (const p of trunk.parameters()) expect(p.grad).toBeNull();
    for (const p of head.parameters()) expect(p.grad).not.toBeNull();
  });
  it('freeze clears stale gradients; unfreeze restores training and the last requested mode', () => {
    const trunk = makeTrunk();
    const w = (trunk.at(0) as Conv2d).weight;
    w.sum().backward();
    expect(w.grad).not.toBeNull();
    freeze(trunk);
    expect(w.grad).toBeNull();
    trunk.eval();
    trunk.train(); // asked for train mode while frozen
    expect(bn(trunk).training).toBe(false);
    unfreeze(trunk);
    expect(bn(trunk).training).toBe(true);
    expect(isFrozen(trunk)).toBe(false);
    for (const p of trunk.parameters()) expect(p.requiresGrad).toBe(true);
    trunk.eval();
    expect(bn(trunk).training).toBe(false);
    trunk.train();
    expect(bn(trunk).training).toBe(true); // a plain data property again
    expect(Object.keys(trunk.stateDict())).toContain('1.running_mean');
    expect(() => freeze({} as never)).toThrow(/Kiln: freeze: expected a Module, got object/);
  });
});

describe('feature caching', () => {
  it('training the head on cached features gives the same head as training through the frozen trunk', async () => {
    manualSeed(1);
    const x = randn([96, 1, 8, 8]), y = randn([96]).abs().mul(1.5).floor().clamp(0, 2).to('int32');
    const trunk = makeTrunk();
    bn(trunk).running_mean!.add_(0.2);
    bn(trunk).running_var!.mul_(1.5);
    const head = new Linear(64, 3), twin = new Linear(64, 3);
    twin.loadStateDict(head.stateDict());
    freeze(trunk);
    const model = new Sequential(trunk, head);

    const train = async (m: Module, data: TensorDataset) => {
      m.train();
      const opt = new SGD(m.parameters(), { lr: 0.2, momentum: 0.9 }); // frozen parameters included: skipped
      for (let epoch = 0; epoch < 3; epoch++) {
        for (const [xb, yb] of new DataLoader(data, { batchSize: 16, shuffle: true, seed: epoch })) {
          opt.zeroGrad();
          crossEntropy(m.forward(xb!) as Tensor, yb!).backward();
          opt.step();
        }
      }
    };
    const trunkBefore = values((trunk.at(0) as Conv2d).weight);
    await train(model, new TensorDataset(x, y));

    const tmp = mkdtempSync(join(tmpdir(), 'kiln-features-'));
    try {
      const cached = await cacheFeatures(trunk, new TensorDataset(x, y), { batchSize: 40, path: join(tmp, 'f.safetensors') });
      expect(cached.tensors[0]!.shape).toEqual([96, 64]);
      const loaded = await loadCachedFeatures(join(tmp, 'f.safetensors'));
      expect(values(loaded.tensors[0]!)).toEqual(values(cached.tensors[0]!));
      expect(Array.from(loaded.tensors[1]!.dataSync())).toEqual(Array.from(y.dataSync()));
      await train(twin, loaded);
      await expect(loadCachedFeatures(join(tmp, 'missing.safetensors'))).rejects.toThrow();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(values((trunk.at(0) as Conv2d).weight)).toEqual(trunkBefore);
    const a = values(head.weight), b = values(twin.weight);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    expect(diff).toBeLessThan(1e-5);
    expect(values(head.weight)).not.toEqual(values(new Linear(64, 3).weight)); // it did train
  });
  it('rejects bad arguments by name', async () => {
    await expect(cacheFeatures(makeTrunk(), new TensorDataset(randn([4, 1, 8, 8]), randn([4])), { batchsize: 2 } as never)).rejects.toThrow(/cacheFeatures: unknown option 'batchsize'/);
    await expect(cacheFeatures(makeTrunk(), new TensorDataset(randn([4, 1, 8, 8]))))
      .rejects.toThrow(/cacheFeatures: dataset items must be \[input, label\], got 1 tensor/);
  });
});
