import { mkdtemp, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed, tensor } from '@kiln/tensor';
import { BatchNorm1d, Linear, loadSafetensors, parseSafetensors, saveSafetensors, Sequential, serializeSafetensors } from '../index.js';

describe('safetensors', () => {
  it('writes the documented layout (hand-checked header)', () => {
    const bytes = serializeSafetensors({ a: tensor([1, 2]) });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(JSON.parse(header)).toEqual({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    expect(header.trimEnd()).toBe('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
    expect(Array.from(new Float32Array(bytes.slice(8 + n).buffer))).toEqual([1, 2]);
  });

  it('round-trips every dtype and metadata', () => {
    const sd = {
      w: tensor([[1.5, -2], [3, 4]]), d: tensor(Float64Array.from([Math.PI])), i: tensor(Int32Array.from([7, -8])),
      b: tensor([true, false, true]), s: tensor(Int32Array.from([5]), { shape: [] }),
    };
    const { tensors, metadata } = parseSafetensors(serializeSafetensors(sd, { format: 'pt' }));
    expect(metadata).toEqual({ format: 'pt' });
    for (const [k, t] of Object.entries(sd)) {
      expect(tensors[k]!.dtype).toBe(t.dtype);
      expect(tensors[k]!.shape).toEqual(t.shape);
      expect(tensors[k]!.toArray()).toEqual(t.toArray());
    }
  });

  it('model checkpoint round trip through a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-st-'));
    manualSeed(1);
    const a = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
    a.forward(tensor([[1, 2, 3], [0, 1, 5]]));
    const path = join(dir, 'model.safetensors');
    await saveSafetensors(path, a.stateDict());
    manualSeed(2);
    const b = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
    b.loadStateDict((await loadSafetensors(path)).tensors);
    for (const [k, t] of Object.entries(a.stateDict())) expect(b.stateDict()[k]!.toArray()).toEqual(t.toArray());
    expect(b.stateDict()['1.num_batches_tracked']!.item()).toBe(1);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('truncated or corrupt files give clear errors', async () => {
    const bytes = serializeSafetensors({ w: tensor([1, 2, 3]) });
    expect(() => parseSafetensors(bytes.slice(0, 4))).toThrow(/truncated: 4 bytes/);
    expect(() => parseSafetensors(bytes.slice(0, 20))).toThrow(/truncated or corrupt: header claims/);
    expect(() => parseSafetensors(bytes.slice(0, bytes.length - 1))).toThrow(/truncated: tensor 'w' needs bytes up to 12 but the data section has 11/);
    const bad = bytes.slice();
    bad[8] = 0x5b; // '[' — no longer an object's JSON
    expect(() => parseSafetensors(bad)).toThrow(/parseSafetensors: header is not/);
    const dir = await mkdtemp(join(tmpdir(), 'kiln-st-'));
    await writeFile(join(dir, 'cut.safetensors'), bytes.slice(0, bytes.length - 4));
    await expect(loadSafetensors(join(dir, 'cut.safetensors'))).rejects.toThrow(/truncated.*cut\.safetensors/);
  });

  it('a failed save leaves the existing file untouched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-st-'));
    const path = join(dir, 'keep.safetensors');
    await saveSafetensors(path, { w: tensor([1]) });
    const before = await readFile(path);
    // a non-Tensor value fails during serialisation
    await expect(saveSafetensors(path, { w: 3 as never })).rejects.toThrow(/'w' is not a Tensor/);
    // a string metadata used to be written as a __metadata__ string, which no reader accepts
    await expect(saveSafetensors(path, { w: tensor([2]) }, 'pt' as never)).rejects.toThrow(/^Kiln: serializeSafetensors: metadata must be an object of strings, got "pt"$/);
    await expect(saveSafetensors(path, tensor([2]) as never)).rejects.toThrow(/^Kiln: serializeSafetensors: expected a state dict \{ name: Tensor \} \(e\.g\. model\.stateDict\(\)\), got a Tensor$/);
    // the target path is a directory: the rename fails after the temp file was written
    const asDir = join(dir, 'isdir.safetensors');
    await mkdir(asDir);
    await expect(saveSafetensors(asDir, { w: tensor([2]) })).rejects.toThrow(/could not write/);
    expect(await readFile(path)).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['isdir.safetensors', 'keep.safetensors']);
  });
});
