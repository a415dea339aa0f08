import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, type Module } from '@kiln/nn';
import { noGrad, zeros, type Tensor } from '@kiln/tensor';
import { mobilenetV2, resnet18 } from './models/index.js';
import { hashInput } from './models/test-utils/hash-weights.js';
import { fixturePath, loadFixture, relativeError } from './models/test-utils/fixtures.js';
import { loadTorchvisionStateDict, loadTorchvisionWeights } from './weights.js';

const small = () => mobilenetV2({ widthMult: 0.25, numClasses: 10 });
const snapshot = (m: Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.dataSync())]));
const fileSd = () => parseSafetensors(new Uint8Array(readFileSync(fixturePath('mobilenet_v2_w025.f32.safetensors')))).tensors;

describe('loadTorchvisionWeights', () => {
  for (const tag of ['f32', 'f16', 'bf16']) {
    it(`loads a torch-written ${tag.toUpperCase()} state dict (I64 num_batches_tracked) and matches PyTorch to 1e-4`, async () => {
      const model = small();
      const { loaded } = await loadTorchvisionWeights(model, fixturePath(`mobilenet_v2_w025.${tag}.safetensors`));
      expect(loaded).toBe(Object.keys(model.stateDict()).length);
      const bn = model.stateDict()['features.0.1.num_batches_tracked']!;
      expect(bn.dtype).toBe('int32');
      expect(bn.item()).toBe(7);
      const y = noGrad(() => model.eval().forward(hashInput([2, 3, 32, 32])) as Tensor);
      const err = relativeError(y, (await loadFixture(`mobilenet_v2_w025.${tag}.out.safetensors`)).output!);
      console.log(`loadTorchvisionWeights ${tag}: relative error ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
    });
  }

  it('accepts bytes, a DataParallel "module." prefix and a state dict without num_batches_tracked', async () => {
    const a = small();
    await loadTorchvisionWeights(a, new Uint8Array(readFileSync(fixturePath('mobilenet_v2_w025.f32.safetensors'))));
    const sd = fileSd();
    const b = small();
    loadTorchvisionStateDict(b, Object.fromEntries(Object.entries(sd).map(([k, t]) => [`module.${k}`, t])));
    expect(snapshot(b)).toEqual(snapshot(a));
    const c = small();
    loadTorchvisionStateDict(c, Object.fromEntries(Object.entries(sd).filter(([k]) => !k.endsWith('num_batches_tracked'))));
    expect(c.stateDict()['features.0.0.weight']!.dataSync()).toEqual(a.stateDict()['features.0.0.weight']!.dataSync());
  });

  it('missing, unexpected and mis-shaped keys: one error naming model, keys and shapes; nothing loaded', async () => {
    const sd = fileSd();
    const wrongHead = small();
    const before = snapshot(wrongHead);
    const m5 = mobilenetV2({ widthMult: 0.25, numClasses: 5 });
    const before5 = snapshot(m5);
    await expect(loadTorchvisionWeights(m5, fixturePath('mobilenet_v2_w025.f32.safetensors'))).rejects.toThrow(
      /Kiln: loadTorchvisionWeights: mobilenetV2: file .*mobilenet_v2_w025\.f32\.safetensors does not fit the model \(nothing was loaded\): shape mismatch: 'classifier\.1\.weight' is \[10,1280\] in the file, \[5,1280\] in the model; 'classifier\.1\.bias' is \[10\] in the file, \[5\] in the model/,
    );
    expect(snapshot(m5)).toEqual(before5);
    const missing = { ...sd };
    delete missing['features.3.conv.1.1.running_var'];
    expect(() => loadTorchvisionStateDict(wrongHead, { ...missing, 'extra.weight': zeros([2]) })).toThrow(
      /mobilenetV2: state dict does not fit the model \(nothing was loaded\): missing keys: features\.3\.conv\.1\.1\.running_var; unexpected keys: extra\.weight/,
    );
    expect(snapshot(wrongHead)).toEqual(before);
    const r = resnet18({ numClasses: 10 });
    expect(() => loadTorchvisionStateDict(r, sd)).toThrow(/resnet18: .*missing keys: conv1\.weight, bn1\.weight, .*\(\d+ in all\); unexpected keys: classifier\.1\.bias, .*\(314 in all\)/);
  });

  it('a corrupt or truncated file fails naming the file', async () => {
    const bytes = new Uint8Array(readFileSync(fixturePath('mobilenet_v2_w025.f32.safetensors')));
    await expect(loadTorchvisionWeights(small(), bytes.slice(0, 1000))).rejects.toThrow(/Kiln: parseSafetensors: .*truncated/);
    await expect(loadTorchvisionWeights(small(), fixturePath('no-such-file.safetensors'))).rejects.toThrow(/no-such-file/);
  });
});
