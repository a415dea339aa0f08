import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '@kiln/tensor';
import { Linear, crossEntropy, loadSafetensors } from '@kiln/nn';
import { SGD } from '@kiln/optim';
import { fit } from './index.js';
import { snapshot, stateToArrays, toySetup } from './test-utils/toy.js';

const ce = (o: Tensor, y: Tensor) => crossEntropy(o, y);
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-train-ckpt-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('fit: checkpoints', () => {
  it('saves <name>-epoch<N>.safetensors every N epochs, holding that epoch\'s weights', async () => {
    const root = await tempDir();
    const dir = join(root, 'nested', 'ckpt'); // created on demand
    const { model, train } = toySetup(9);
    const weights: Record<string, number[]>[] = [];
    await fit(model, {
      train, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.3 }), epochs: 5, progress: false,
      checkpoint: { dir, every: 2, name: 'toy' },
      callbacks: { onEpochEnd: () => { weights.push(snapshot(model)); } },
    });
    expect((await readdir(dir)).sort()).toEqual(['toy-epoch2.safetensors', 'toy-epoch4.safetensors']);
    for (const epoch of [2, 4]) {
      const { tensors, metadata } = await loadSafetensors(join(dir, `toy-epoch${epoch}.safetensors`));
      expect(metadata).toEqual({ epoch: String(epoch) });
      expect(Object.keys(tensors).sort()).toEqual(['bias', 'weight']);
      expect(stateToArrays(tensors)).toEqual(weights[epoch - 1]);
      // and it loads back into a fresh model
      const fresh = new Linear(3, 3);
      fresh.loadStateDict(tensors);
      expect(snapshot(fresh)).toEqual(weights[epoch - 1]);
    }
    expect(weights[1]).not.toEqual(weights[3]);
  });

  it("names files 'model-epoch<N>' by default", async () => {
    const dir = await tempDir();
    const { model, train } = toySetup();
    await fit(model, { train, loss: ce, optimizer: new SGD(model.parameters(), { lr: 0.1 }), epochs: 3, progress: false, checkpoint: { dir, every: 1 } });
    expect((await readdir(dir)).sort()).toEqual(['model-epoch1.safetensors', 'model-epoch2.safetensors', 'model-epoch3.safetensors']);
  });

  it('a save that fails mid-write leaves the existing checkpoint intact and no temp file behind', async () => {
    const dir = await tempDir();
    const path = join(dir, 'model-epoch1.safetensors');
    const first = toySetup(10);
    await fit(first.model, { train: first.train, loss: ce, optimizer: new SGD(first.model.parameters(), { lr: 0.1 }), epochs: 1, progress: false, checkpoint: { dir, every: 1 } });
    const before = await readFile(path);

    // Simulate a full disk: writes into `dir` put down half the bytes, then fail.
    const realWriteFile = fs.promises.writeFile;
    let attempts = 0;
    fs.promises.writeFile = (async (file: fs.PathLike | fs.promises.FileHandle, data: Uint8Array, ...rest: unknown[]) => {
      if (typeof file === 'string' && file.startsWith(dir)) {
        attempts++;
        await (realWriteFile as (f: string, d: Uint8Array) => Promise<void>)(file, data.subarray(0, data.byteLength >> 1));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return (realWriteFile as (...a: unknown[]) => Promise<void>)(file, data, ...rest);
    }) as typeof fs.promises.writeFile;
    syncBuiltinESMExports();
    try {
      const second = toySetup(11); // other weights, so a partial or full overwrite would show
      await expect(fit(second.model, {
        train: second.train, loss: ce, optimizer: new SGD(second.model.parameters(), { lr: 0.1 }), epochs: 1, progress: false, checkpoint: { dir, every: 1 },
      })).rejects.toThrow(/could not write .*model-epoch1\.safetensors: ENOSPC/);
    } finally {
      fs.promises.writeFile = realWriteFile;
      syncBuiltinESMExports();
    }
    expect(attempts).toBe(1);
    expect(Buffer.compare(await readFile(path), before)).toBe(0);
    expect(await readdir(dir)).toEqual(['model-epoch1.safetensors']);
  });
});
