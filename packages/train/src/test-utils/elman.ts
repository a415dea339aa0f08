/** A hand-written Elman RNN for the train tests (@kiln/train cannot depend on @kiln/sequence). */
import { Generator, Tensor, stack, zeros } from '@kiln/tensor';
import { Linear, Module, parameter, uniform_ } from '@kiln/nn';
import type { RecurrentState, Stateful } from '../fit.js';

/**
 * h_t = tanh(W_ih·x_t + W_hh·h_{t−1} + b); y_t = W_out·h_t + b_out. Input [batch, time, inputSize].
 * `perStep`: outputs for every step [batch, time, outputSize]; otherwise only the last [batch, outputSize].
 */
export class Elman extends Module implements Stateful {
  weight_ih: Tensor;
  weight_hh: Tensor;
  bias: Tensor;
  readout: Linear;
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(readonly inputSize: number, readonly hiddenSize: number, outputSize: number, readonly perStep: boolean, options: { nonlinearity?: 'tanh' | 'relu'; recurrentIdentity?: number; recurrentGain?: number; dtype?: 'float32' | 'float64' } = {}) {
    super();
    this.nonlinearity = options.nonlinearity ?? 'tanh';
    const dtype = options.dtype ?? 'float32', k = 1 / Math.sqrt(hiddenSize);
    this.weight_ih = parameter(zeros([hiddenSize, inputSize], { dtype }));
    this.weight_hh = parameter(zeros([hiddenSize, hiddenSize], { dtype }));
    this.bias = parameter(zeros([hiddenSize], { dtype }));
    uniform_(this.weight_ih, -k, k);
    uniform_(this.weight_hh, -k, k);
    uniform_(this.bias, -k, k);
    if (options.recurrentIdentity !== undefined) {
      // W_hh = scale·I (Le et al.'s IRNN init): above 1, a ReLU RNN's state and gradients grow like scale^T
      const d = this.weight_hh.dataSync();
      d.fill(0);
      for (let i = 0; i < hiddenSize; i++) d[i * hiddenSize + i] = options.recurrentIdentity;
    }
    if (options.recurrentGain !== undefined) {
      // W_hh ~ N(0, gain²/hidden): gain > 1 puts a tanh RNN in its chaotic regime, where gradients grow exponentially with the sequence length
      const d = this.weight_hh.dataSync();
      const g = new Generator(7);
      for (let i = 0; i < d.length; i++) d[i] = g.normal() * options.recurrentGain / Math.sqrt(hiddenSize);
    }
    this.readout = new Linear(hiddenSize, outputSize, { dtype });
  }

  forwardWithState(x: Tensor, state: RecurrentState | null): [Tensor, RecurrentState] {
    const [b, steps] = [x.shape[0]!, x.shape[1]!];
    let h = (state as Tensor | null) ?? zeros([b, this.hiddenSize], { dtype: this.weight_hh.dtype });
    const xw = x.matmul(this.weight_ih.t()).add(this.bias); // [b, steps, hidden], one GEMM for all steps
    const outs: Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      h = xw.narrow(1, t, 1).reshape([b, this.hiddenSize]).add(h.matmul(this.weight_hh.t()));
      h = this.nonlinearity === 'tanh' ? h.tanh() : h.relu();
      if (this.perStep) outs.push(this.readout.forward(h));
    }
    return [this.perStep ? stack(outs, 1) : this.readout.forward(h), h];
  }

  override forward(x: Tensor): Tensor {
    return this.forwardWithState(x, null)[0];
  }
}
