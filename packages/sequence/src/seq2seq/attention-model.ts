/**
 * A token-level encoder–decoder (course 5.3.1) built from the recurrent layers, with or without
 * additive attention:
 *
 *   encoder: bidirectional GRU over embedded source tokens → a⟨t′⟩ = [a→⟨t′⟩; a←⟨t′⟩]
 *   s⟨−1⟩  = tanh(W_init·[a→⟨last⟩; a←⟨first⟩])
 *   step t: c⟨t⟩ = attention(s⟨t−1⟩, a)            (with `attention: false`: c⟨t⟩ = the same
 *                                                    final encoder summary at every step)
 *           s⟨t⟩ = GRUCell([embed(y⟨t−1⟩); c⟨t⟩], s⟨t−1⟩),   y⟨−1⟩ = <bos>
 *           P(y⟨t⟩ | x, y⟨<t⟩) = softmax(W_out·[s⟨t⟩; c⟨t⟩] + b_out)
 *
 * Training uses teacher forcing (`forward` feeds the reference's previous token); decoding feeds
 * the model's own tokens through `stepFunction`, which plugs into `beamSearch`/`greedyDecode`.
 */
import { Tensor, cat, checkOptions, noGrad, stack } from '@kiln/tensor';
import { Embedding, Linear, Module, crossEntropy } from '@kiln/nn';
import { GRU } from '../rnn/layers.js';
import { GRUCell } from '../cells/cells.js';
import { AdditiveAttention } from '../attention/additive.js';
import type { StepFunction } from './beam-search.js';

export interface EncoderDecoderOptions {
  embeddingDim?: number;
  /** Hidden size of each encoder direction (default 32). */
  encoderHidden?: number;
  /** Hidden size of the decoder GRU cell (default 64). */
  decoderHidden?: number;
  /** Hidden size of the attention network (default 32). */
  attentionHidden?: number;
  /** Additive attention (default true); false: the plain encoder–decoder. */
  attention?: boolean;
  padId: number;
  bosId: number;
  eosId: number;
}


export class EncoderDecoder extends Module {
  src_embed: Embedding;
  tgt_embed: Embedding;
  encoder: GRU;
  init_state: Linear;
  attention: AdditiveAttention | null;
  decoder: GRUCell;
  out: Linear;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly useAttention: boolean;

  constructor(readonly srcVocabSize: number, readonly tgtVocabSize: number, options: EncoderDecoderOptions) {
    super();
    checkOptions('EncoderDecoder', options, {
      embeddingDim: 'posint', encoderHidden: 'posint', decoderHidden: 'posint', attentionHidden: 'posint', attention: 'boolean',
      padId: 'nonnegint', bosId: 'nonnegint', eosId: 'nonnegint',
    });
    for (const k of ['padId', 'bosId', 'eosId'] as const) {
      if (options[k] === undefined) throw new Error(`Kiln: EncoderDecoder: ${k} is required`);
    }
    const E = options.embeddingDim ?? 16, He = options.encoderHidden ?? 32, Hd = options.decoderHidden ?? 64;
    this.padId = options.padId; this.bosId = options.bosId; this.eosId = options.eosId;
    this.useAttention = options.attention ?? true;
    this.src_embed = new Embedding(srcVocabSize, E, { paddingIdx: options.padId });
    this.tgt_embed = new Embedding(tgtVocabSize, E);
    this.encoder = new GRU(E, He, { bidirectional: true });
    this.init_state = new Linear(2 * He, Hd);
    this.attention = this.useAttention ? new AdditiveAttention(Hd, 2 * He, options.attentionHidden ?? 32) : null;
    this.decoder = new GRUCell(E + 2 * He, Hd);
    this.out = new Linear(Hd + 2 * He, tgtVocabSize);
  }

  /** Pads token lists into a `[B, T]` int32 batch. */
  static pad(seqs: readonly (readonly number[])[], padId: number): Tensor {
    const T = Math.max(1, ...seqs.map((s) => s.length));
    const d = new Int32Array(seqs.length * T).fill(padId);
    seqs.forEach((s, b) => d.set(s, b * T));
    return new Tensor(d, [seqs.length, T], 'int32');
  }

  /** Encodes a batch: keys `[B, Tx, 2He]`, their projection, the initial decoder state and the summary. */
  encode(source: Tensor, lengths: number[]): { keys: Tensor; projected: Tensor | null; state: Tensor; summary: Tensor; lengths: number[] } {
    if (source.ndim !== 2 || source.dtype !== 'int32') throw new Error(`Kiln: EncoderDecoder: source must be int32 [B, Tx], got ${source.dtype} [${source.shape.join(',')}]`);
    const x = this.src_embed.forward(source).transpose(0, 1); // [Tx, B, E]
    const [out, hN] = this.encoder.forward(x, null, { lengths });
    const summary = cat([hN.narrow(0, 0, 1).squeeze(0), hN.narrow(0, 1, 1).squeeze(0)], 1); // [B, 2He]
    const keys = out.transpose(0, 1); // [B, Tx, 2He]
    const state = this.init_state.forward(summary).tanh();
    return { keys, projected: this.attention ? this.attention.projectKeys(keys) : null, state, summary, lengths };
  }

  /** One decoder step for all rows: previous tokens `[B]` int32 → [logits [B, V], new state, weights [B, Tx] | null]. */
  decodeStep(prev: Tensor, state: Tensor, enc: { keys: Tensor; projected: Tensor | null; summary: Tensor; lengths: number[] }): [Tensor, Tensor, Tensor | null] {
    let context = enc.summary, weights: Tensor | null = null;
    if (this.attention) [context, weights] = this.attention.forward(state, enc.keys, { lengths: enc.lengths, projectedKeys: enc.projected! });
    const s = this.decoder.forward(cat([this.tgt_embed.forward(prev), context], 1), state);
    return [this.out.forward(cat([s, context], 1)), s, weights];
  }

  /**
   * Teacher forcing: logits `[B, Ty, V]` for targets `[B, Ty]` (each row ending in <eos>, padded
   * with padId), step t fed the reference token t − 1 (<bos> at t = 0).
   */
  override forward(source: Tensor, sourceLengths: number[], target: Tensor): Tensor {
    const enc = this.encode(source, sourceLengths);
    const [B, Ty] = target.shape as [number, number];
    const td = target.dataSync();
    let state = enc.state;
    const logits: Tensor[] = [];
    for (let t = 0; t < Ty; t++) {
      const prev = new Int32Array(B);
      for (let b = 0; b < B; b++) prev[b] = t === 0 ? this.bosId : td[b * Ty + t - 1]!;
      const [l, s] = this.decodeStep(new Tensor(prev, [B], 'int32'), state, enc);
      logits.push(l); state = s;
    }
    return stack(logits, 1);
  }

  /** Mean cross-entropy of the teacher-forced predictions over non-pad target tokens. */
  loss(source: Tensor, sourceLengths: number[], target: Tensor): Tensor {
    const logits = this.forward(source, sourceLengths, target);
    return crossEntropy(logits.reshape([-1, this.tgtVocabSize]), target.reshape([-1]), { ignoreIndex: this.padId });
  }

  /** Greedy decoding of a whole batch at once: token lists (without <eos>) and, with attention, weights `[steps][Tx]` per row. */
  greedy(source: Tensor, sourceLengths: number[], maxLength: number): { tokens: number[][]; weights: number[][][] } {
    return noGrad(() => {
      const enc = this.encode(source, sourceLengths);
      const B = source.shape[0]!;
      let state = enc.state;
      let prev = new Int32Array(B).fill(this.bosId);
      const tokens: number[][] = Array.from({ length: B }, () => []), weights: number[][][] = Array.from({ length: B }, () => []);
      const done = new Array<boolean>(B).fill(false);
      for (let t = 0; t < maxLength && done.includes(false); t++) {
        const [l, s, w] = this.decodeStep(new Tensor(prev, [B], 'int32'), state, enc);
        const ids = l.argmax(1).dataSync();
        const wd = w?.dataSync(), Tx = enc.keys.shape[1]!;
        prev = new Int32Array(B);
        for (let b = 0; b < B; b++) {
          prev[b] = ids[b]!;
          if (done[b]) continue;
          if (wd) weights[b]!.push(Array.from(wd.subarray(b * Tx, b * Tx + sourceLengths[b]!), Number));
          if (ids[b] === this.eosId) done[b] = true;
          else tokens[b]!.push(ids[b]!);
        }
        state = s;
      }
      return { tokens, weights };
    });
  }

  /**
   * The step function of one source sequence for `beamSearch`/`greedyDecode`/`sequenceLogProb`:
   * all live hypotheses run as one batch; the state is each hypothesis' decoder state `[Hd]`,
   * and the returned `state` (s⟨−1⟩ for this source) is the one to pass as `options.state`.
   */
  stepFunction(sourceIds: readonly number[]): { step: StepFunction<Tensor>; state: Tensor } {
    const enc = noGrad(() => this.encode(EncoderDecoder.pad([sourceIds], this.padId), [sourceIds.length]));
    const step: StepFunction<Tensor> = (prefixes, states) => noGrad(() => {
      const n = prefixes.length;
      const prev = Int32Array.from(prefixes, (p) => (p.length ? p[p.length - 1]! : this.bosId));
      const e = {
        keys: enc.keys.expand([n, ...enc.keys.shape.slice(1)]),
        projected: enc.projected ? enc.projected.expand([n, ...enc.projected.shape.slice(1)]) : null,
        summary: enc.summary.expand([n, enc.summary.shape[1]!]),
        lengths: new Array<number>(n).fill(sourceIds.length),
      };
      const [l, s] = this.decodeStep(new Tensor(prev, [n], 'int32'), stack([...states], 0), e);
      return { logProbs: l.logSoftmax(1), states: Array.from({ length: n }, (_, i) => s.narrow(0, i, 1).squeeze(0)) };
    });
    return { step, state: enc.state.squeeze(0) };
  }
}
