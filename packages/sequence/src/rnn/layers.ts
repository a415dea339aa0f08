/**
 * RNN, GRU and LSTM: PyTorch's torch.nn.RNN/GRU/LSTM (same options, state-dict keys, layouts,
 * gate orders, init and output shapes), plus the course's forms as options.
 *
 * Equations (per layer and direction, x = the layer's input at step t, h = the previous state):
 * - RNN:  h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh)  (or relu)
 * - GRU:  r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z = σ(W_iz·x + b_iz + W_hz·h + b_hz),
 *         n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h
 *         (`variant: 'course'`: see course-gru.ts — Γr ⊙ h before W_hn, h' = Γu ⊙ h̃ + (1 − Γu) ⊙ h)
 * - LSTM: i = σ(W_ii·x + b_ii + W_hi·h + b_hi), f = σ(… f …), g = tanh(… g …), o = σ(… o …),
 *         c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c')  (with projSize: h' = W_hr·(o ⊙ tanh(c')))
 *         `peephole: true` adds the course's peephole connections (Gers & Schmidhuber), one
 *         vector per gate in `weight_peep_l{k}` `[3·hidden]` (i, f, o): i and f also see
 *         p_i ⊙ c and p_f ⊙ c (the previous cell), o sees p_o ⊙ c' (the new cell). PyTorch has no
 *         peepholes; ONNX LSTM's P input carries them.
 */
import { checkOptions, type Tensor } from '@kiln/tensor';
import { BASE_OPTION_SPEC, RNNBase, recurrence, type DirectionParams, type RNNBaseOptions, type RNNForwardOptions } from './base.js';

export interface RNNOptions extends RNNBaseOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

export interface GRUOptions extends RNNBaseOptions {
  /** 'pytorch' (default; fused kernels) or 'course' (the lectures' Γu/Γr form; composed ops). */
  variant?: 'pytorch' | 'course';
}

export interface LSTMOptions extends RNNBaseOptions {
  /** Project h to this size with weight_hr (0 = none, the default). */
  projSize?: number;
  /** Peephole connections (the course's form; default false). */
  peephole?: boolean;
}

/** Elman RNN: `forward(input, h0?, { lengths }?)` → `[output, hN]`. */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    checkOptions('RNN', options, { ...BASE_OPTION_SPEC, nonlinearity: ['tanh', 'relu'] });
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new Error(`Kiln: RNN: nonlinearity must be 'tanh' or 'relu', got '${String(nl)}'`);
    super(nl === 'relu' ? 'RNN_RELU' : 'RNN_TANH', inputSize, hiddenSize, options, 'RNN');
    this.nonlinearity = nl;
  }

  protected runDirection(x: Tensor, p: DirectionParams, h0: Tensor | null, _c0: Tensor | null, lengths: number[] | null, reverse: boolean, batchFirst: boolean): Tensor[] {
    return recurrence(this.mode, 'pytorch', x, p, h0, null, lengths, reverse, batchFirst);
  }

  override forward(input: Tensor, h0: Tensor | null = null, options?: RNNForwardOptions): [Tensor, Tensor] {
    return this.runLayers('RNN', input, h0, null, options) as [Tensor, Tensor];
  }

  override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity === 'relu' ? ", nonlinearity='relu'" : '');
  }
}

/** Gated recurrent unit: `forward(input, h0?, { lengths }?)` → `[output, hN]`. */
export class GRU extends RNNBase {
  readonly variant: 'pytorch' | 'course';

  constructor(inputSize: number, hiddenSize: number, options: GRUOptions = {}) {
    checkOptions('GRU', options, { ...BASE_OPTION_SPEC, variant: ['pytorch', 'course'] });
    const variant = options.variant ?? 'pytorch';
    if (variant !== 'pytorch' && variant !== 'course') throw new Error(`Kiln: GRU: variant must be 'pytorch' or 'course', got '${String(variant)}'`);
    const { variant: _v, ...rest } = options;
    super('GRU', inputSize, hiddenSize, rest, 'GRU');
    this.variant = variant;
  }

  protected runDirection(x: Tensor, p: DirectionParams, h0: Tensor | null, _c0: Tensor | null, lengths: number[] | null, reverse: boolean, batchFirst: boolean): Tensor[] {
    return recurrence('GRU', this.variant, x, p, h0, null, lengths, reverse, batchFirst);
  }

  override forward(input: Tensor, h0: Tensor | null = null, options?: RNNForwardOptions): [Tensor, Tensor] {
    return this.runLayers('GRU', input, h0, null, options) as [Tensor, Tensor];
  }

  override extraRepr(): string {
    return super.extraRepr() + (this.variant === 'course' ? ", variant='course'" : '');
  }
}

/** Long short-term memory: `forward(input, [h0, c0]?, { lengths }?)` → `[output, [hN, cN]]`. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    checkOptions('LSTM', options, { ...BASE_OPTION_SPEC, projSize: 'nonnegint', peephole: 'boolean' });
    super('LSTM', inputSize, hiddenSize, options, 'LSTM');
  }

  protected runDirection(x: Tensor, p: DirectionParams, h0: Tensor | null, c0: Tensor | null, lengths: number[] | null, reverse: boolean, batchFirst: boolean): Tensor[] {
    return recurrence('LSTM', 'pytorch', x, p, h0, c0, lengths, reverse, batchFirst);
  }

  override forward(input: Tensor, hx: readonly [Tensor, Tensor] | null = null, options?: RNNForwardOptions): [Tensor, [Tensor, Tensor]] {
    if (hx !== null && hx !== undefined && (!Array.isArray(hx) || hx.length !== 2)) {
      throw new Error('Kiln: LSTM: the initial state must be [h0, c0] (or null for zeros)');
    }
    const [out, h, c] = this.runLayers('LSTM', input, hx ? hx[0] : null, hx ? hx[1] : null, options);
    return [out!, [h!, c!]];
  }
}
