/**
 * Many-to-many with different lengths (course 5.1.3.3: machine translation): an encoder reads the
 * whole source, its final state starts a decoder that writes the target,
 *
 *   encoder: a⟨t⟩ = RNN_enc(x⟨t⟩, a⟨t−1⟩), t < T_x;   decoder (decoder.ts) from h⟨−1⟩ = a⟨T_x⟩
 *
 * Source `[T_x, B, in]` (with optional `sourceLengths`: each sequence's own last encoder state is
 * used), target `[T_y, B, out]`; T_x and T_y are independent. Encoder and decoder share the
 * recurrent spec (cell, hiddenSize, numLayers), so the state passes over unchanged.
 */
import { Module } from '@kiln/nn';
import type { Tensor } from '@kiln/tensor';
import type { GRU, LSTM, RNN } from '../rnn/layers.js';
import { makeRecurrent, runRecurrent, type RecurrentSpec } from './common.js';
import { Decoder, type DecoderState } from './decoder.js';

export class Seq2Seq extends Module {
  encoder: RNN | GRU | LSTM;
  decoder: Decoder;

  constructor(readonly inputSize: number, readonly outputSize: number, spec: RecurrentSpec) {
    super();
    if (spec?.bidirectional) throw new Error('Kiln: Seq2Seq: bidirectional must be false (the encoder state starts the forward-running decoder)');
    this.encoder = makeRecurrent('Seq2Seq', inputSize, spec);
    this.decoder = new Decoder(outputSize, spec, 'Seq2Seq');
  }

  /** The encoder's final state for `source` `[T_x, B, in]`. */
  encode(source: Tensor, sourceLengths?: ArrayLike<number> | Tensor): DecoderState {
    return runRecurrent(this.encoder, source, null, sourceLengths)[1];
  }

  /** Teacher-forced predictions `[T_y, B, out]` of `target`. */
  override forward(source: Tensor, target: Tensor, sourceLengths?: ArrayLike<number> | Tensor): Tensor {
    return this.decoder.forward(target, this.encode(source, sourceLengths));
  }

  /** Generates `steps` outputs `[steps, B, out]` for `source`, feeding each prediction back. */
  generate(source: Tensor, steps: number, sourceLengths?: ArrayLike<number> | Tensor): Tensor {
    return this.decoder.generate(this.encode(source, sourceLengths), steps, source.shape[1]!);
  }
}
