/**
 * A small Transformer (d 32, 2 heads, 1 + 1 layers) learns to reverse digit strings of length
 * 3–6 by teacher forcing (copying is easier: copyReverseTask's 'copy'), to ≥ 98% exact match on held-out strings (none seen in
 * training) with cached greedy decoding; its cross-attention heads are plotted (SVG, atomic).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Generator, manualSeed, noGrad } from '@kiln/tensor';
import { TransformerSeq2Seq, copyReverseTask, exactMatch, padTokens, saveAttentionHeads, trainSeq2Seq, BOS_ID } from './index.js';

describe('Transformer training', () => {
  for (const [task, steps] of [['reverse', 600]] as const) {
    it(`${task}: ≥ 98% exact match on held-out strings`, async () => {
      manualSeed(0);
      const m = new TransformerSeq2Seq(13, 13, { dModel: 32, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 64, dropout: 0, padIdx: 0, maxLen: 16, generator: new Generator(1) });
      const train = copyReverseTask(4000, { task, seed: 1, maxLen: 6 });
      const seen = new Set(train.map((p) => p.src.join(',')));
      const test = copyReverseTask(600, { task, seed: 2, maxLen: 6 }).filter((p) => !seen.has(p.src.join(',')));
      expect(test.length).toBeGreaterThan(400);
      const before = exactMatch(m, test);
      const loss = trainSeq2Seq(m, train, { steps, batchSize: 48, lr: 3e-3, finalLrFactor: 0.1, every: 50 });
      const acc = exactMatch(m, test);
      console.log(`transformer ${task}: held-out exact match ${(100 * acc).toFixed(1)}% (before ${(100 * before).toFixed(1)}%), final loss ${loss.toFixed(4)}, ${test.length} strings`);
      expect(before).toBeLessThan(0.05);
      expect(acc).toBeGreaterThanOrEqual(0.98);
      if (task === 'reverse') {
        // the cross-attention of a reversing model looks at the mirrored source position
        const src = [3, 4, 5, 6, 7, 8];
        const cross = m.decoder.layerList[0]!.multihead_attn;
        cross.storeWeights = true;
        noGrad(() => m.forward(padTokens([src]), padTokens([[BOS_ID, ...[...src].reverse()]])));
        cross.storeWeights = false;
        const w = cross.lastWeights!.squeeze(0); // [H, T, S]
        expect(w.shape).toEqual([2, 7, 6]);
        const dir = mkdtempSync(join(tmpdir(), 'kiln-heads-'));
        try {
          const path = join(dir, 'heads.svg');
          await saveAttentionHeads(path, w, { title: 'reverse: decoder cross-attention', rowLabels: ['<bos>', ...[...src].reverse().map((t) => String(t - 3))], colLabels: src.map((t) => String(t - 3)) });
          const svg = readFileSync(path, 'utf8');
          expect(svg.match(/<svg /g)!.length).toBe(3);
          expect(svg).toContain('head 1');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    });
  }
  it('copyReverseTask rejects a count that is not an integer ≥ 0', () => {
    expect(() => copyReverseTask(2.5, { task: 'copy' })).toThrow(/^Kiln: copyReverseTask: n must be an integer ≥ 0, got 2\.5$/);
    expect(copyReverseTask(2, { task: 'copy' })).toHaveLength(2);
  });
});
