/**
 * RNNCell, GRUCell and LSTMCell: one time step, as torch.nn.RNNCell/GRUCell/LSTMCell (same
 * parameter names weight_ih, weight_hh, bias_ih, bias_hh, layouts, gate orders and init).
 * Equations as in rnn/layers.ts; each step runs the same fused recurrence op as the layers,
 * over a sequence of one. Inputs `[B, inputSize]` or unbatched `[inputSize]`.
 */
import { checkOptions, defaultGenerator, gruRecurrence, lstmRecurrence, rnnRecurrence, Tensor, zeros, type Generator } from '@kiln/tensor';
import { Module, parameter, uniform_ } from '@kiln/nn';
import { courseGruRecurrence } from '../rnn/course-gru.js';
import { checkCount, shapeStr, generatorKind } from '../utils/options.js';

export interface CellOptions {
  bias?: boolean;
  dtype?: 'float32' | 'float64';
  generator?: Generator;
}

const CELL_SPEC = { bias: 'boolean', dtype: ['float32', 'float64'], generator: generatorKind } as const;

abstract class CellBase extends Module {
  weight_ih: Tensor;
  weight_hh: Tensor;
  bias_ih: Tensor | null;
  bias_hh: Tensor | null;

  protected constructor(readonly inputSize: number, readonly hiddenSize: number, gates: number, options: CellOptions, readonly layer: string) {
    super();
    checkCount(layer, 'inputSize', inputSize);
    checkCount(layer, 'hiddenSize', hiddenSize);
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`Kiln: ${layer}: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
    this.weight_ih = parameter(zeros([gates * hiddenSize, inputSize], { dtype }));
    this.weight_hh = parameter(zeros([gates * hiddenSize, hiddenSize], { dtype }));
    this.bias_ih = options.bias === false ? null : parameter(zeros([gates * hiddenSize], { dtype }));
    this.bias_hh = options.bias === false ? null : parameter(zeros([gates * hiddenSize], { dtype }));
    this._init(options.generator ?? defaultGenerator);
  }

  /** @internal */
  _init(generator: Generator): void {
    const k = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) uniform_(p, -k, k, generator);
  }

  /** Checks input and states; returns them as `[1, B, in]` and `[B, H]` plus whether batched. */
  protected prepare(x: Tensor, states: Array<[string, Tensor | null]>): { x3: Tensor; states: Array<Tensor | null>; batched: boolean } {
    if (!(x instanceof Tensor)) throw new Error(`Kiln: ${this.layer}: input must be a Tensor`);
    if ((x.ndim !== 1 && x.ndim !== 2) || x.shape[x.ndim - 1] !== this.inputSize) {
      throw new Error(`Kiln: ${this.layer}: input must be [B, ${this.inputSize}] or unbatched [${this.inputSize}], got ${shapeStr(x.shape)}`);
    }
    const batched = x.ndim === 2;
    const B = batched ? x.shape[0]! : 1;
    const dtype = this.weight_ih.dtype;
    const out = states.map(([name, s]) => {
      if (s === null || s === undefined) return null;
      const want = batched ? [B, this.hiddenSize] : [this.hiddenSize];
      if (!(s instanceof Tensor) || s.ndim !== want.length || s.shape.some((v, i) => v !== want[i])) {
        throw new Error(`Kiln: ${this.layer}: ${name} must have shape ${shapeStr(want)} (like input ${shapeStr(x.shape)}), got ${s instanceof Tensor ? shapeStr(s.shape) : typeof s}`);
      }
      const s2 = batched ? s : s.unsqueeze(0);
      return s2.dtype === dtype ? s2 : s2.to(dtype);
    });
    const x2 = batched ? x : x.unsqueeze(0);
    return { x3: (x2.dtype === dtype ? x2 : x2.to(dtype)).unsqueeze(0), states: out, batched };
  }

  protected args(x3: Tensor, h0: Tensor | null) {
    return { input: x3, h0, weightIh: this.weight_ih, weightHh: this.weight_hh, biasIh: this.bias_ih, biasHh: this.bias_hh };
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias_ih ? '' : ', bias=false'}`;
  }
}

export interface RNNCellOptions extends CellOptions {
  nonlinearity?: 'tanh' | 'relu';
}

/** h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh) (or relu). `forward(x, h?)` → h'. */
export class RNNCell extends CellBase {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    checkOptions('RNNCell', options, { ...CELL_SPEC, nonlinearity: ['tanh', 'relu'] });
    super(inputSize, hiddenSize, 1, options, 'RNNCell');
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new Error(`Kiln: RNNCell: nonlinearity must be 'tanh' or 'relu', got '${String(nl)}'`);
    this.nonlinearity = nl;
  }

  override forward(x: Tensor, h: Tensor | null = null): Tensor {
    const { x3, states, batched } = this.prepare(x, [['h', h]]);
    const [, hN] = rnnRecurrence({ ...this.args(x3, states[0]!), nonlinearity: this.nonlinearity });
    return batched ? hN : hN.squeeze(0);
  }
}

export interface GRUCellOptions extends CellOptions {
  /** 'pytorch' (default) or 'course' (see rnn/course-gru.ts). */
  variant?: 'pytorch' | 'course';
}

/** One GRU step (PyTorch's form, or the course's with `variant: 'course'`). `forward(x, h?)` → h'. */
export class GRUCell extends CellBase {
  readonly variant: 'pytorch' | 'course';

  constructor(inputSize: number, hiddenSize: number, options: GRUCellOptions = {}) {
    checkOptions('GRUCell', options, { ...CELL_SPEC, variant: ['pytorch', 'course'] });
    super(inputSize, hiddenSize, 3, options, 'GRUCell');
    const v = options.variant ?? 'pytorch';
    if (v !== 'pytorch' && v !== 'course') throw new Error(`Kiln: GRUCell: variant must be 'pytorch' or 'course', got '${String(v)}'`);
    this.variant = v;
  }

  override forward(x: Tensor, h: Tensor | null = null): Tensor {
    const { x3, states, batched } = this.prepare(x, [['h', h]]);
    const a = this.args(x3, states[0]!);
    const [, hN] = this.variant === 'course' ? courseGruRecurrence({ ...a, lengths: null, reverse: false }) : gruRecurrence(a);
    return batched ? hN : hN.squeeze(0);
  }
}

export interface LSTMCellOptions extends CellOptions {
  /** Peephole connections in `weight_peep` `[3·hidden]` (i, f, o); see rnn/layers.ts. */
  peephole?: boolean;
}

/** One LSTM step. `forward(x, [h, c]?)` → [h', c']. */
export class LSTMCell extends CellBase {
  weight_peep: Tensor | null;

  constructor(inputSize: number, hiddenSize: number, options: LSTMCellOptions = {}) {
    checkOptions('LSTMCell', options, { ...CELL_SPEC, peephole: 'boolean' });
    super(inputSize, hiddenSize, 4, options, 'LSTMCell');
    this.weight_peep = null;
    if (options.peephole) {
      this.weight_peep = parameter(zeros([3 * hiddenSize], { dtype: this.weight_ih.dtype }));
      const k = 1 / Math.sqrt(hiddenSize);
      uniform_(this.weight_peep, -k, k, options.generator ?? defaultGenerator);
    }
  }

  override forward(x: Tensor, hx: readonly [Tensor, Tensor] | null = null): [Tensor, Tensor] {
    if (hx !== null && hx !== undefined && (!Array.isArray(hx) || hx.length !== 2)) {
      throw new Error('Kiln: LSTMCell: the state must be [h, c] (or null for zeros)');
    }
    const { x3, states, batched } = this.prepare(x, [['h', hx ? hx[0] : null], ['c', hx ? hx[1] : null]]);
    const [, hN, cN] = lstmRecurrence({ ...this.args(x3, states[0]!), c0: states[1]!, peephole: this.weight_peep });
    return batched ? [hN, cN] : [hN.squeeze(0), cN.squeeze(0)];
  }
}
