/**
 * One-to-many (course 5.1.3.3: music generation): one input vector x sets the initial state, the
 * sequence is then generated step by step, each output fed back as the next input,
 *
 *   h⟨−1⟩ = tanh(W_x·x + b_x)  (the LSTM's cell starts at 0),  then the decoder of decoder.ts
 *
 * `forward(x [B, in], targets [T, B, out])` trains with teacher forcing; `generate(x, steps)`
 * runs free. Every layer of the decoder starts from the same projection of x.
 */
import { Linear, Module } from '@kiln/nn';
import { zeros, type Tensor } from '@kiln/tensor';
import type { RecurrentSpec } from './common.js';
import { Decoder, type DecoderState } from './decoder.js';

export class OneToMany extends Module {
  bridge: Linear;
  decoder: Decoder;

  constructor(readonly inputSize: number, readonly outputSize: number, spec: RecurrentSpec) {
    super();
    this.decoder = new Decoder(outputSize, spec, 'OneToMany');
    this.bridge = new Linear(inputSize, this.decoder.rnn.stateSize, { dtype: this.decoder.rnn.paramDType() });
  }

  /** The decoder's initial state from x `[B, in]`. */
  initialState(x: Tensor): DecoderState {
    const rnn = this.decoder.rnn;
    if (x.ndim !== 2 || x.shape[1] !== this.inputSize) {
      throw new Error(`Kiln: OneToMany: x must be [B, ${this.inputSize}], got [${x.shape.join(',')}]`);
    }
    const h = this.bridge.forward(x).tanh().unsqueeze(0).expand([rnn.numLayers, x.shape[0]!, rnn.stateSize]);
    if (rnn.mode !== 'LSTM') return h;
    return [h, zeros([rnn.numLayers, x.shape[0]!, rnn.hiddenSize], { dtype: rnn.paramDType() })];
  }

  override forward(x: Tensor, targets: Tensor): Tensor {
    return this.decoder.forward(targets, this.initialState(x));
  }

  generate(x: Tensor, steps: number): Tensor {
    return this.decoder.generate(this.initialState(x), steps, x.shape[0]!);
  }
}
