/**
 * LSTM/GRU models exported by PyTorch (torch.onnx.export, opset 17; fixtures from
 * scripts/gen_rnn_fixtures.py) import into Kiln, give torch's outputs, agree with ONNX Runtime
 * at other batch sizes and sequence lengths, match a Kiln layer loaded with the same state
 * dict, and keep training.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, randn, type Tensor } from '@kiln/tensor';
import { expectClose } from '@kiln/tensor/testing';
import { loadSafetensors, mseLoss } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import { createSession, importOnnx, runSession } from '@kiln/onnx';
import { GRU, LSTM } from '../index.js';

const dir = fileURLToPath(new URL('../../fixtures/onnx/', import.meta.url));
manualSeed(4);

const cases = [
  { name: 'lstm_torch', inputs: ['input', 'h0', 'c0'], outputs: ['output', 'h_n', 'c_n'], make: () => new LSTM(3, 4, { numLayers: 2, bidirectional: true }), batchFirst: false },
  { name: 'gru_torch', inputs: ['input', 'h0'], outputs: ['output', 'h_n'], make: () => new GRU(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true }), batchFirst: true },
] as const;

describe('PyTorch-exported LSTM/GRU (opset 17) imported into Kiln', () => {
  for (const c of cases) {
    it(`${c.name}: torch's outputs, ORT at other shapes, the Kiln layer with the same weights`, async () => {
      const bytes = new Uint8Array(readFileSync(`${dir}${c.name}.onnx`));
      const { tensors: t } = await loadSafetensors(`${dir}${c.name}.safetensors`);
      const m = importOnnx(bytes);
      expect(m.inputNames).toEqual([...c.inputs]);
      const got = noGrad(() => m.forward(...c.inputs.map((n) => t[n]!))) as Tensor[];
      c.outputs.forEach((n, i) => expectClose(got[i]!, t[n]!, { atol: 1e-5, rtol: 1e-5 }));

      // The same weights in a Kiln layer give the same outputs.
      const layer = c.make();
      layer.loadStateDict(Object.fromEntries(Object.entries(t).filter(([k]) => k.startsWith('param.')).map(([k, v]) => [k.slice(6), v])));
      const ins = c.inputs.map((n) => t[n]!);
      const ref = noGrad(() => (layer instanceof LSTM ? layer.forward(ins[0]!, [ins[1]!, ins[2]!]) : layer.forward(ins[0]!, ins[1]!)));
      expectClose(ref[0], t.output!, { atol: 1e-5, rtol: 1e-5 });

      // Dynamic batch and sequence axes: Kiln's import and ORT agree at another shape.
      const s = await createSession(bytes, { backend: 'node' });
      const [T, B] = [8, 3];
      const feeds: Record<string, Tensor> = {
        input: c.batchFirst ? randn([B, T, 3]) : randn([T, B, 3]),
        h0: randn([4, B, 4]),
        ...(c.inputs.length === 3 ? { c0: randn([4, B, 4]) } : {}),
      };
      const ort = await runSession(s, feeds);
      const kiln = noGrad(() => m.forward(...c.inputs.map((n) => feeds[n]!))) as Tensor[];
      c.outputs.forEach((n, i) => expectClose(kiln[i]!, ort[n]!, { atol: 1e-5, rtol: 1e-4 }));
    });

    it(`${c.name}: keeps training after import (loss falls)`, async () => {
      const m = importOnnx(new Uint8Array(readFileSync(`${dir}${c.name}.onnx`)));
      const { tensors: t } = await loadSafetensors(`${dir}${c.name}.safetensors`);
      const ins = c.inputs.map((n) => t[n]!);
      const target = (t.output as Tensor).mul(-0.5).add(0.1).detach();
      const opt = new Adam(m.parameters(), { lr: 0.02 });
      const losses: number[] = [];
      for (let step = 0; step < 12; step++) {
        opt.zeroGrad();
        const out = (m.forward(...ins) as Tensor[])[0]!;
        const loss = mseLoss(out, target);
        loss.backward();
        opt.step();
        losses.push(loss.item());
      }
      console.info(`${c.name} imported, 12 Adam steps: loss ${losses[0]!.toFixed(4)} → ${losses[losses.length - 1]!.toFixed(4)}`);
      expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);
    });
  }
});
