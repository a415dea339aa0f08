/**
 * Date translation with a Transformer (course 5.4 on the 5.3.1 task): human-readable dates
 * ("tuesday, april 2 2019", "5/30/68", …) → ISO "YYYY-MM-DD", character level, from the seeded
 * generator of src/seq2seq/dates.ts. Trains a TransformerSeq2Seq by teacher forcing, reports
 * exact match on held-out dates (cached greedy decoding), and writes the last decoder layer's
 * cross-attention heads for one example as SVG.
 *
 *   node demo/dist/transformer-dates.js [--steps 4800] [--d-model 32] [--batch 32] [--out DIR]
 *
 * (`transformerDatesDemo` is exported so it can be run from TypeScript sources as well.)
 *
 * Measured 2026-12-02 on the shared 2-core machine (d_model 32, 4 heads, 2 + 2 layers, batch 32,
 * 20 000 training dates, 561 held-out dates not seen in training): 66.7% exact match after 1500
 * steps, 85.2% after 2200 steps, 97.5% after 3200 steps, 99.8% (560/561) after 4800 steps
 * (627 s) — the defaults below. Shorter runs miss day/month order cases ("30.1.33" → 2033-10-30).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Generator, manualSeed, noGrad } from '@kiln/tensor';
import {
  BOS_ID, EOS_ID, TransformerSeq2Seq, dateSplits, exactMatch, padTokens, saveAttentionHeads, trainSeq2Seq, type TokenPair,
} from '@kiln/sequence';

export interface DatesDemoOptions {
  steps?: number;
  dModel?: number;
  batchSize?: number;
  nTrain?: number;
  nDev?: number;
  out?: string;
  log?: (line: string) => void;
}

export interface DatesDemoResult {
  accuracy: number;
  dev: number;
  loss: number;
  seconds: number;
  svg: string;
  examples: string[];
}

export async function transformerDatesDemo(options: DatesDemoOptions = {}): Promise<DatesDemoResult> {
  const { steps = 4800, dModel = 32, batchSize = 32, nTrain = 20000, nDev = 1000, out = '.', log = console.log } = options;
  manualSeed(0);
  const { train, dev } = dateSplits(nTrain, nDev, { seed: 5 });
  // ids 0 pad, 1 bos, 2 eos, then characters
  const chars = (strings: string[]): string[] => [...new Set(strings.join(''))].sort();
  const srcChars = chars(train.map((p) => p.human).concat(dev.map((p) => p.human)));
  const tgtChars = chars(train.map((p) => p.iso));
  const sId = new Map(srcChars.map((c, i) => [c, i + 3]));
  const tId = new Map(tgtChars.map((c, i) => [c, i + 3]));
  const enc = (p: { human: string; iso: string }): TokenPair => ({ src: [...p.human].map((c) => sId.get(c)!), tgt: [...p.iso].map((c) => tId.get(c)!) });
  const trainIds = train.map(enc), devIds = dev.map(enc);
  const m = new TransformerSeq2Seq(srcChars.length + 3, tgtChars.length + 3, {
    dModel, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 2 * dModel, dropout: 0.05, padIdx: 0, maxLen: 64, generator: new Generator(2),
  });
  log(`dates: ${trainIds.length} train, ${devIds.length} held-out dates (unseen ISO dates); src vocab ${srcChars.length + 3}, tgt vocab ${tgtChars.length + 3}; ${m.parameters().reduce((a, p) => a + p.numel(), 0)} parameters`);
  const t0 = Date.now();
  const loss = trainSeq2Seq(m, trainIds, { steps, batchSize, lr: 2e-3, finalLrFactor: 0.05, every: 100, seed: 3, onLog: (s, l) => log(`step ${s}: loss ${l.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`) });
  const seconds = (Date.now() - t0) / 1000;
  const accuracy = exactMatch(m, devIds);
  log(`held-out exact match ${(100 * accuracy).toFixed(2)}% after ${steps} steps (${seconds.toFixed(0)} s), final loss ${loss.toFixed(4)}`);
  const examples = dev.slice(0, 6).map((p, i) => {
    const outIds = m.greedy(padTokens([devIds[i]!.src]), { bos: BOS_ID, eos: EOS_ID, maxLength: 12 })[0]!;
    const got = outIds.map((t) => tgtChars[t - 3] ?? '?').join('');
    return `${p.human} → ${got}${got === p.iso ? '' : ` (want ${p.iso})`}`;
  });
  examples.forEach((e) => log(`  ${e}`));
  // cross-attention heads of the last decoder layer for one example
  const ex = dev[0]!, ids = devIds[0]!;
  const cross = m.decoder.layerList.at(-1)!.multihead_attn;
  cross.storeWeights = true;
  noGrad(() => m.forward(padTokens([ids.src]), padTokens([[BOS_ID, ...ids.tgt]])));
  cross.storeWeights = false;
  const svg = join(out, 'transformer-dates-heads.svg');
  await saveAttentionHeads(svg, cross.lastWeights!.squeeze(0), {
    title: `"${ex.human}" → ${ex.iso}: last decoder layer, cross-attention per head`,
    rowLabels: ['<bos>', ...ex.iso], colLabels: [...ex.human], cell: 16,
  });
  log(`wrote ${svg}`);
  return { accuracy, dev: devIds.length, loss, seconds, svg, examples };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { steps: { type: 'string', default: '4800' }, 'd-model': { type: 'string', default: '32' }, batch: { type: 'string', default: '32' }, out: { type: 'string', default: '.' } } });
  await transformerDatesDemo({ steps: Number(values.steps), dModel: Number(values['d-model']), batchSize: Number(values.batch), out: values.out });
}
