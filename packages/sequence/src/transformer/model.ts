/**
 * A token-to-token Transformer (course 5.4): source and target embeddings scaled by √d_model,
 * positional encodings, encoder and decoder stacks (batch first) and a linear `generator` to
 * vocabulary logits. Trained with teacher forcing (`forward(src, tgtIn)` under a causal mask);
 * decoded greedily or through `beamSearch`, both with a key/value cache so that each new token
 * costs one position's worth of work.
 *
 * Token conventions: the decoder's input starts with `bos`; decoding stops at `eos`;
 * `padIdx` (optional) marks padding in the source (masked out of attention).
 */
import { Tensor, checkOptions, noGrad, type Generator } from '@kiln/tensor';
import { Embedding, LayerNorm, Linear, Module, normal_ } from '@kiln/nn';
import { beamSearch, type Hypothesis, type StepFunction } from '../seq2seq/beam-search.js';
import { causalMask } from './attention.js';
import { TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer, type DecoderCache, type TransformerActivation } from './layers.js';
import { LearnedPositionalEncoding, PositionalEncoding } from './positional.js';
import { checkCount, generatorKind } from '../utils/options.js';

export interface TransformerSeq2SeqOptions {
  dModel?: number;
  nhead?: number;
  numEncoderLayers?: number;
  numDecoderLayers?: number;
  dimFeedforward?: number;
  dropout?: number;
  activation?: TransformerActivation;
  normFirst?: boolean;
  /** 'sinusoidal' (default, the course's) or 'learned'. */
  positions?: 'sinusoidal' | 'learned';
  maxLen?: number;
  /** Source padding token (masked out of attention). */
  padIdx?: number;
  dtype?: 'float32' | 'float64';
  generator?: Generator;
}

const SPEC = {
  dModel: 'posint', nhead: 'posint', numEncoderLayers: 'posint', numDecoderLayers: 'posint', dimFeedforward: 'posint', dropout: 'prob',
  activation: ['relu', 'gelu'], normFirst: 'boolean', positions: ['sinusoidal', 'learned'], maxLen: 'posint', padIdx: 'nonnegint',
  dtype: ['float32', 'float64'], generator: generatorKind,
} as const;

export interface DecodeOptions {
  bos: number;
  eos: number;
  maxLength: number;
  /** Use the key/value cache (default true); false recomputes the whole prefix at each step. */
  cache?: boolean;
}

export class TransformerSeq2Seq extends Module {
  src_embed: Embedding;
  tgt_embed: Embedding;
  pos: PositionalEncoding | LearnedPositionalEncoding;
  encoder: TransformerEncoder;
  decoder: TransformerDecoder;
  generator: Linear;
  readonly dModel: number;
  readonly padIdx: number | undefined;

  constructor(readonly srcVocab: number, readonly tgtVocab: number, options: TransformerSeq2SeqOptions = {}) {
    super();
    checkOptions('TransformerSeq2Seq', options, SPEC);
    checkCount('TransformerSeq2Seq', 'srcVocab', srcVocab);
    checkCount('TransformerSeq2Seq', 'tgtVocab', tgtVocab);
    const { dModel = 64, nhead = 4, numEncoderLayers = 2, numDecoderLayers = 2, dimFeedforward = 4 * dModel, dropout = 0.1, activation = 'relu', normFirst = false, dtype = 'float32', generator } = options;
    this.dModel = dModel;
    this.padIdx = options.padIdx;
    const g = generator ? { generator } : {};
    const layer = { dimFeedforward, dropout, activation, normFirst, batchFirst: true, dtype, ...g };
    this.src_embed = new Embedding(srcVocab, dModel, { dtype });
    this.tgt_embed = new Embedding(tgtVocab, dModel, { dtype });
    // N(0, 1/d_model), so that the √d_model-scaled embeddings have unit scale like the positions
    for (const e of [this.src_embed, this.tgt_embed]) normal_(e.weight, 0, 1 / Math.sqrt(dModel), generator);
    const pe = { maxLen: options.maxLen ?? 256, dropout, batchFirst: true, dtype, ...g };
    this.pos = options.positions === 'learned' ? new LearnedPositionalEncoding(dModel, pe) : new PositionalEncoding(dModel, pe);
    const norm = (): LayerNorm | null => (normFirst ? new LayerNorm(dModel, { dtype }) : null);
    this.encoder = new TransformerEncoder(() => new TransformerEncoderLayer(dModel, nhead, layer), numEncoderLayers, { norm: norm() });
    this.decoder = new TransformerDecoder(() => new TransformerDecoderLayer(dModel, nhead, layer), numDecoderLayers, { norm: norm() });
    this.generator = new Linear(dModel, tgtVocab, { dtype });
  }

  private checkTokens(name: string, t: Tensor): void {
    if (!(t instanceof Tensor) || t.dtype !== 'int32' || t.ndim !== 2) {
      throw new Error(`Kiln: TransformerSeq2Seq: ${name} must be int32 tokens [B, T], got ${t instanceof Tensor ? `${t.dtype} [${t.shape.join(',')}]` : typeof t}`);
    }
  }

  /** The source's key-padding mask (true at padIdx), or null without padIdx. */
  srcPaddingMask(src: Tensor): Tensor | null {
    return this.padIdx === undefined ? null : src.eq(this.padIdx);
  }

  /** src int32 [B, S] → memory [B, S, E]. */
  encode(src: Tensor): Tensor {
    this.checkTokens('src', src);
    const x = this.pos.forward(this.src_embed.forward(src).mul(Math.sqrt(this.dModel)));
    return this.encoder.forward(x, { srcKeyPaddingMask: this.srcPaddingMask(src) });
  }

  /** Decoder input int32 [B, T] (starting with bos) and memory → logits [B, T, V]. */
  decode(tgtIn: Tensor, memory: Tensor, memoryKeyPaddingMask: Tensor | null = null): Tensor {
    this.checkTokens('tgtIn', tgtIn);
    const T = tgtIn.shape[1]!;
    const y = this.pos.forward(this.tgt_embed.forward(tgtIn).mul(Math.sqrt(this.dModel)));
    return this.generator.forward(this.decoder.forward(y, memory, { tgtMask: causalMask(T), memoryKeyPaddingMask }));
  }

  /** Teacher forcing: src [B, S], tgtIn [B, T] → logits [B, T, V]. */
  override forward(src: Tensor, tgtIn: Tensor): Tensor {
    return this.decode(tgtIn, this.encode(src), this.srcPaddingMask(src));
  }

  /** One cached decoding step: the last tokens [B, 1] → logits [B, V]; `cache` is updated. */
  decodeStep(tokens: Tensor, memory: Tensor, cache: DecoderCache, memoryKeyPaddingMask: Tensor | null = null): Tensor {
    this.checkTokens('tokens', tokens);
    const y = this.pos.forward(this.tgt_embed.forward(tokens).mul(Math.sqrt(this.dModel)), { offset: cache.length });
    return this.generator.forward(this.decoder.forward(y, memory, { memoryKeyPaddingMask, cache })).squeeze(1);
  }

  /** Greedy decoding of a batch of sources → the output tokens of each (without bos/eos). */
  greedy(src: Tensor, options: DecodeOptions): number[][] {
    checkOptions('TransformerSeq2Seq.greedy', options, { bos: 'nonnegint', eos: 'nonnegint', maxLength: 'posint', cache: 'boolean' });
    return noGrad(() => {
      const B = src.shape[0]!;
      const memory = this.encode(src);
      const kp = this.srcPaddingMask(src);
      const out: number[][] = Array.from({ length: B }, () => []);
      const done = new Array<boolean>(B).fill(false);
      const cache = options.cache === false ? null : this.decoder.newCache();
      const prefix: number[][] = Array.from({ length: B }, () => [options.bos]);
      for (let t = 0; t < options.maxLength && !done.every(Boolean); t++) {
        let logits: Float32Array | Float64Array;
        let V: number;
        if (cache) {
          const last = new Tensor(Int32Array.from(prefix.map((p) => p.at(-1)!)), [B, 1], 'int32');
          const l = this.decodeStep(last, memory, cache, kp);
          logits = l.dataSync() as Float32Array; V = l.shape[1]!;
        } else {
          const tin = new Tensor(Int32Array.from(prefix.flat()), [B, t + 1], 'int32');
          const l = this.decode(tin, memory, kp).slice(1, t, t + 1).squeeze(1);
          logits = l.dataSync() as Float32Array; V = l.shape[1]!;
        }
        for (let b = 0; b < B; b++) {
          let best = 0;
          for (let v = 1; v < V; v++) if (logits[b * V + v]! > logits[b * V + best]!) best = v;
          prefix[b]!.push(best);
          if (done[b]) continue;
          if (best === options.eos) done[b] = true;
          else out[b]!.push(best);
        }
      }
      return out;
    });
  }

  /**
   * A step function for `beamSearch` decoding one source sequence: each hypothesis carries its
   * own key/value cache (B = 1); the caches of a hypothesis's children share its tensors.
   */
  stepFunction(src: readonly number[], bos: number): { step: StepFunction<DecoderCache>; state: DecoderCache } {
    const srcT = new Tensor(Int32Array.from(src), [1, src.length], 'int32');
    const memory = noGrad(() => this.encode(srcT));
    const kp = this.srcPaddingMask(srcT);
    const step: StepFunction<DecoderCache> = (prefixes, states) => noGrad(() => {
      const logProbs: Float64Array[] = [];
      const next: DecoderCache[] = [];
      prefixes.forEach((p, i) => {
        const s = states[i]!;
        const cache: DecoderCache = { length: s.length, layers: s.layers.map((l) => ({ self: { ...l.self }, cross: { ...l.cross } })) };
        const tok = new Tensor(Int32Array.of(p.length ? p.at(-1)! : bos), [1, 1], 'int32');
        const lp = this.decodeStep(tok, memory, cache, kp).logSoftmax(-1);
        logProbs.push(Float64Array.from(lp.dataSync()));
        next.push(cache);
      });
      return { logProbs, states: next };
    });
    return { step, state: this.decoder.newCache() };
  }

  /** Beam search for one source sequence (course 5.3.1.1's objective; see `beamSearch`). */
  beamSearch(src: readonly number[], options: DecodeOptions & { beamWidth: number; lengthPenalty?: number; nBest?: number }): Hypothesis[] {
    const { bos, cache: _c, ...rest } = options;
    const { step, state } = this.stepFunction(src, bos);
    return beamSearch(step, { ...rest, state });
  }
}
