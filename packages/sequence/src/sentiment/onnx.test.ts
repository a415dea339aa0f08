/** Both sentiment classifiers exported to ONNX (Embedding → Gather, LSTM with sequence_lens) and run on ONNX Runtime. */
import { describe, expect, it } from 'vitest';
import { Tensor, manualSeed, noGrad } from '@kiln/tensor';
import { createSession, decodeModel, exportOnnx, runSession } from '@kiln/onnx';
import { AverageClassifier, LSTMClassifier, Vocab, batchIds } from '../index.js';

const vocab = new Vocab(['<pad>', '<unk>', 'the', 'film', 'was', 'not', 'good', 'bad', 'but', 'at', 'first', 'dull']);
const sentences = [['the', 'film', 'was', 'not', 'good'], ['bad'], ['the', 'film', 'was', 'dull', 'at', 'first', 'but', 'good'], ['not', 'bad', 'mystery']];

describe('sentiment classifiers on ONNX Runtime', () => {
  for (const kind of ['average', 'lstm'] as const) {
    it(`${kind}: ORT logits match Kiln's within 1e-5 on padded sentences of different lengths`, async () => {
      manualSeed(4);
      const model = kind === 'average' ? new AverageClassifier(vocab, { embeddingDim: 6 }) : new LSTMClassifier(vocab, { embeddingDim: 6, hiddenSize: 5 });
      model.eval();
      const { ids, lengths } = batchIds(vocab, sentences);
      const bytes = exportOnnx(model, [ids, lengths], { opset: 17, inputNames: ['ids', 'lengths'], outputNames: ['logits'] });
      const ops = decodeModel(bytes).graph!.node!.map((n) => n.opType!);
      expect(ops).toContain('Gather');
      if (kind === 'lstm') expect(ops).toContain('LSTM');
      const session = await createSession(bytes, { backend: 'node' });
      const res = await runSession(session, { ids, lengths });
      const want = noGrad(() => model.forward(ids, lengths)).dataSync();
      const got = res.logits!.dataSync();
      expect(got.length).toBe(want.length);
      let maxDiff = 0;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(Number(got[i]) - want[i]!));
      expect(maxDiff).toBeLessThan(1e-5);
      // the padding really matters: a different length changes the LSTM's answer for the same ids
      if (kind === 'lstm') {
        const shorter = Int32Array.from(lengths.dataSync());
        shorter[2] = 3;
        const res2 = await runSession(session, { ids, lengths: new Tensor(shorter, [4], 'int32') });
        expect(Math.abs(Number(res2.logits!.dataSync()[4]) - Number(got[4]))).toBeGreaterThan(1e-6);
      }
    });
  }
});
