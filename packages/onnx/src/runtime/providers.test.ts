/**
 * Execution-provider fallback of createSession: a provider that cannot start here is skipped,
 * the session reports the providers it actually runs with, and the results do not change.
 * CUDA is not installed on the CI machine (onnxruntime-node ships no CUDA provider library), so
 * ['cuda', 'cpu'] must fall back to cpu there; on a machine where CUDA starts, the test checks
 * instead that nothing was skipped. The browser side (['webgpu', 'wasm'] without an adapter) is
 * tested in Chromium by apps/playground.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tensor } from '@kiln/tensor';
import { createSession, runSession } from '../index.js';

const model = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../../models/lenet5-mnist/model.onnx', import.meta.url))));
const x = tensor(Float32Array.from({ length: 2 * 32 * 32 }, (_, i) => ((i * 37) % 101) / 101), { shape: [2, 1, 32, 32] });

describe('createSession execution providers', () => {
  it("['cuda', 'cpu'] on node: falls back to cpu where CUDA cannot start, says so, and computes the same logits", async () => {
    const cpu = await createSession(model, { backend: 'node', executionProviders: ['cpu'], logSeverityLevel: 4 });
    expect(cpu.providers).toEqual(['cpu']);
    expect(cpu.fallbacks).toEqual([]);
    const s = await createSession(model, { backend: 'node', executionProviders: ['cuda', 'cpu'], logSeverityLevel: 4 });
    if (s.providers[0] === 'cuda') {
      expect(s.providers).toEqual(['cuda', 'cpu']);
      expect(s.fallbacks).toEqual([]);
    } else {
      expect(s.providers).toEqual(['cpu']);
      expect(s.fallbacks.map((f) => f.provider)).toEqual(['cuda']);
      expect(s.fallbacks[0]!.reason).toMatch(/cuda/i);
    }
    const a = (await runSession(cpu, { input: x })).logits!.dataSync();
    const b = (await runSession(s, { input: x })).logits!.dataSync();
    const err = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
    expect(err).toBeLessThan(s.providers[0] === 'cuda' ? 1e-3 : 1e-6);
  });

  it('the default provider is reported, and a model no provider accepts is still an error naming createSession', async () => {
    const s = await createSession(model, { backend: 'node', logSeverityLevel: 4 });
    expect(s.providers).toEqual(['cpu']);
    await expect(createSession(new Uint8Array([1, 2, 3, 4]), { backend: 'node', executionProviders: ['cuda', 'cpu'], logSeverityLevel: 4 }))
      .rejects.toThrow(/Kiln: createSession \(node\): ONNX Runtime rejected the model/);
  });

  it("['webgpu', 'wasm'] with onnxruntime-web where no WebGPU exists (Node 20) falls back to wasm and says why", async () => {
    const s = await createSession(model, { backend: 'web', executionProviders: ['webgpu', 'wasm'] });
    expect(s.providers).toEqual(['wasm']);
    expect(s.fallbacks).toHaveLength(1);
    expect(s.fallbacks[0]!.provider).toBe('webgpu');
    expect(s.fallbacks[0]!.reason).toMatch(/navigator\.gpu|adapter/);
    const out = (await runSession(s, { input: x })).logits!;
    expect(out.shape).toEqual([2, 10]);
  });
});
