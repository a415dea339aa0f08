/**
 * The decoding half shared by Seq2Seq and OneToMany: a recurrent layer whose input at each step
 * is the previous output, and a linear head,
 *
 *   h⟨t⟩ = RNN(y⟨t−1⟩, h⟨t−1⟩),  ŷ⟨t⟩ = W_y·h⟨t⟩ + b_y,   y⟨−1⟩ = 0 (the start vector)
 *
 * In training y⟨t−1⟩ is the target's previous step (teacher forcing: all steps in one call);
 * when generating it is the model's own ŷ⟨t−1⟩, one step at a time.
 */
import { cat, noGrad, stack, zeros, type Tensor } from '@kiln/tensor';
import { Linear, Module } from '@kiln/nn';
import type { GRU, LSTM, RNN } from '../rnn/layers.js';
import { makeRecurrent, runRecurrent, type RecurrentSpec } from './common.js';

export type DecoderState = Tensor | [Tensor, Tensor];

export class Decoder extends Module {
  rnn: RNN | GRU | LSTM;
  head: Linear;

  constructor(readonly outputSize: number, spec: RecurrentSpec, block: string) {
    super();
    if (spec?.bidirectional) throw new Error(`Kiln: ${block}: the decoder runs forward in time; bidirectional must be false`);
    this.rnn = makeRecurrent(block, outputSize, spec);
    this.head = new Linear(this.rnn.stateSize, outputSize, { dtype: this.rnn.paramDType() });
  }

  /** Teacher forcing: `targets` `[T, B, out]` → predictions `[T, B, out]`, step t seeing targets before t. */
  override forward(targets: Tensor, state: DecoderState | null): Tensor {
    const [T, B] = targets.shape as [number, number, number];
    const start = zeros([1, B, this.outputSize], { dtype: targets.dtype as 'float32' | 'float64' });
    const inputs = T === 1 ? start : cat([start, targets.narrow(0, 0, T - 1)], 0);
    const [out] = runRecurrent(this.rnn, inputs, state);
    return this.head.forward(out);
  }

  /** Free running: `steps` outputs `[steps, B, out]`, each fed back as the next input. */
  generate(state: DecoderState | null, steps: number, batch: number): Tensor {
    return noGrad(() => {
      let y = zeros([1, batch, this.outputSize], { dtype: this.rnn.paramDType() });
      let s = state;
      const outs: Tensor[] = [];
      for (let t = 0; t < steps; t++) {
        const [out, next] = runRecurrent(this.rnn, y, s);
        y = this.head.forward(out);
        outs.push(y.squeeze(0));
        s = next;
      }
      return stack(outs, 0);
    });
  }
}
