/**
 * ONNX export of the Transformer stacks (MatMul/Softmax/LayerNormalization, no Attention op)
 * against ONNX Runtime: one export each with symbolic batch and lengths, run at two source and
 * target lengths with padding and causal masks (≤ 1e-4), and greedy decoding through ORT giving
 * the same output tokens as Kiln's.
 */
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, manualSeed, noGrad } from '@kiln/tensor';
import { createSession, decodeModel, exportOnnx, runSession, type KilnSession } from '@kiln/onnx';
import { TransformerSeq2Seq } from './index.js';
import { DECODER_IO, ENCODER_IO, decoderInputs, encoderInputs, transformerGraphs } from './onnx.js';
import { BOS_ID, EOS_ID, padTokens } from './tasks.js';

function maxRel(a: Tensor, b: Tensor): number {
  expect(b.shape).toEqual(a.shape);
  const x = a.dataSync(), y = b.dataSync();
  let w = 0;
  for (let i = 0; i < x.length; i++) w = Math.max(w, Math.abs(x[i]! - Number(y[i])) / Math.max(1, Math.abs(x[i]!)));
  return w;
}

/** Greedy decoding with both stacks on ORT (the prefix recomputed each step). */
async function greedyOrt(m: TransformerSeq2Seq, enc: KilnSession, dec: KilnSession, src: Tensor, maxLength: number): Promise<number[][]> {
  const ei = encoderInputs(m, src);
  const { memory } = await runSession(enc, ei);
  const B = src.shape[0]!;
  const prefix = Array.from({ length: B }, () => [BOS_ID]);
  const out: number[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);
  for (let t = 0; t < maxLength && !done.every(Boolean); t++) {
    const di = decoderInputs(m, new Tensor(Int32Array.from(prefix.flat()), [B, t + 1], 'int32'));
    const { logits } = await runSession(dec, { ...di, memory: memory!, memory_key_padding_mask: ei.src_key_padding_mask });
    const d = logits!.dataSync(), V = logits!.shape[2]!;
    for (let b = 0; b < B; b++) {
      const row = (b * (t + 1) + t) * V;
      let best = 0;
      for (let v = 1; v < V; v++) if (d[row + v]! > d[row + best]!) best = v;
      prefix[b]!.push(best);
      if (done[b]) continue;
      if (best === EOS_ID) done[b] = true;
      else out[b]!.push(best);
    }
  }
  return out;
}

describe('Transformer stacks on ONNX Runtime', () => {
  it('encoder and decoder: one export, two lengths, masks as inputs, ≤ 1e-4; greedy through ORT == Kiln greedy', async () => {
    manualSeed(9);
    const m = new TransformerSeq2Seq(12, 14, { dModel: 16, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 32, padIdx: 0, activation: 'gelu', generator: new Generator(4) }).eval();
    const { encoder, decoder } = transformerGraphs(m);
    const sampleSrc = padTokens([[3, 4, 5, 6, 7, 8], [9, 10, 11]]);
    const ei = encoderInputs(m, sampleSrc);
    const encBytes = exportOnnx(encoder, [ei.src_embedded, ei.src_key_padding_mask], { ...ENCODER_IO, opset: 17 });
    const mem = noGrad(() => encoder.forward(ei.src_embedded, ei.src_key_padding_mask));
    const di = decoderInputs(m, padTokens([[BOS_ID, 3, 4, 5], [BOS_ID, 6, 7, 8]]));
    const decBytes = exportOnnx(decoder, [di.tgt_embedded, mem, di.tgt_mask, ei.src_key_padding_mask], { ...DECODER_IO, opset: 17 });
    for (const bytes of [encBytes, decBytes]) {
      const ops = new Set(decodeModel(bytes).graph!.node!.map((n) => n.opType!));
      expect(ops.has('MatMul') && ops.has('Softmax') && ops.has('LayerNormalization')).toBe(true);
      expect([...ops].filter((o) => /Attention|Reshape/.test(o))).toEqual([]);
    }
    const enc = await createSession(encBytes, { backend: 'node' });
    const dec = await createSession(decBytes, { backend: 'node' });
    let worst = 0;
    for (const [srcs, tgts] of [
      [[[3, 4, 5, 6, 7], [8, 9, 3, 11, 4], [5, 5]], [[BOS_ID, 4, 5], [BOS_ID, 9, 9], [BOS_ID, 12, 3]]],
      [[[3, 4, 5, 6, 7, 8, 9, 10, 11], [4, 4, 4]], [[BOS_ID, 4, 5, 6, 7, 8, 9], [BOS_ID, 13, 12, 11, 10, 9, 8]]],
    ] as const) {
      const src = padTokens(srcs as unknown as number[][]);
      const e = encoderInputs(m, src);
      const memKiln = noGrad(() => encoder.forward(e.src_embedded, e.src_key_padding_mask));
      const { memory } = await runSession(enc, e);
      worst = Math.max(worst, maxRel(memKiln, memory!));
      const d = decoderInputs(m, padTokens(tgts as unknown as number[][]));
      const logitsKiln = noGrad(() => decoder.forward(d.tgt_embedded, memKiln, d.tgt_mask, e.src_key_padding_mask));
      expect(maxRel(logitsKiln, noGrad(() => m.forward(src, padTokens(tgts as unknown as number[][]))))).toBeLessThan(1e-5);
      const { logits } = await runSession(dec, { ...d, memory: memKiln, memory_key_padding_mask: e.src_key_padding_mask });
      worst = Math.max(worst, maxRel(logitsKiln, logits!));
    }
    console.log(`transformer ORT parity: worst relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    const src = padTokens([[3, 4, 5, 6], [7, 8, 9, 10, 11, 3, 4], [5, 6]]);
    const kiln = m.greedy(src, { bos: BOS_ID, eos: EOS_ID, maxLength: 8 });
    expect(await greedyOrt(m, enc, dec, src, 8)).toEqual(kiln);
    expect(kiln.some((s) => s.length > 0)).toBe(true);
  });
});
