/** The demo's path from a trained LM to ONNX Runtime: export one step, sample from ORT. */
import { describe, expect, it } from 'vitest';
import { manualSeed } from '@kiln/tensor';
import { decodeModel } from '@kiln/onnx';
import { RNNLanguageModel, generate } from '../index.js';
import { exportLMStep, generateWithOrt, ortSession } from '../../demo/onnx-lm.js';

describe('language model on ONNX Runtime', () => {
  for (const cell of ['lstm', 'gru'] as const) {
    it(`${cell}: the exported step samples the same sequences as generate (same seed), logits within 1e-4`, async () => {
      manualSeed(11);
      const lm = new RNNLanguageModel(20, { cell, embeddingDim: 8, hiddenSize: 16, numLayers: 2 });
      const bytes = exportLMStep(lm, 6);
      const ops = decodeModel(bytes).graph!.node!.map((n) => n.opType!);
      expect(ops).toContain(cell === 'lstm' ? 'LSTM' : 'GRU');
      expect(ops).toContain('Gather');
      const session = await ortSession(bytes);
      const o = { n: 6, bosId: 2, eosId: 3, maxLength: 12, seed: 5, temperature: 0.8, topK: 10, suppress: [0, 1] };
      const { ids, maxLogitDiff } = await generateWithOrt(session, lm, o, lm);
      expect(maxLogitDiff).toBeLessThan(1e-4);
      expect(ids).toEqual(generate(lm, o));
      expect(ids.some((s) => s.length > 0)).toBe(true);
    });
  }
});
