/**
 * RNNBase: what RNN, GRU and LSTM share — PyTorch's options, parameter names, layouts and
 * initialisation, the stacking of layers and directions, batchFirst, unbatched inputs,
 * variable lengths and the input checks. One layer direction runs as one recurrence op of
 * @kiln/tensor (input projection in one GEMM, a fused gate kernel per step).
 */
import {
  cat, checkOptions, defaultGenerator, dropout, gruRecurrence, lstmRecurrence, rnnRecurrence, stack, Tensor, zeros, type Generator, type OptionKind,
} from '@kiln/tensor';
import { Module, parameter, uniform_ } from '@kiln/nn';
import { checkCount, checkLengths, lengthsKind, shapeStr, generatorKind } from '../utils/options.js';
import { courseGruRecurrence } from './course-gru.js';

export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

export interface RNNBaseOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Use b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output `[B, T, *]` instead of `[T, B, *]` (states stay `[layers·dirs, B, *]`). */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training (default 0). */
  dropout?: number;
  bidirectional?: boolean;
  dtype?: 'float32' | 'float64';
  /** Generator for the initial weights and the dropout masks (default: the global one). */
  generator?: Generator;
}

export interface RNNForwardOptions {
  /**
   * Per-sequence lengths (1..T) of a padded batch: padded steps output zeros and leave the
   * state alone, so hN (cN) is each sequence's own last step and the reverse direction starts
   * at each sequence's own end — PyTorch's packed sequences. The output keeps the input's T.
   */
  lengths?: ArrayLike<number> | Tensor;
}

const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

export const BASE_OPTION_SPEC: Readonly<Record<string, OptionKind>> = {
  numLayers: 'posint', bias: 'boolean', batchFirst: 'boolean', dropout: 'prob', bidirectional: 'boolean',
  dtype: ['float32', 'float64'], generator: generatorKind,
};

/** Per layer and direction: the parameter tensors one recurrence needs. */
export interface DirectionParams {
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
  weightHr: Tensor | null;
  peephole: Tensor | null;
}

export abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly projSize: number;
  readonly peephole: boolean;
  /** @internal */
  _generator: Generator;
  /** @internal the lengths of the last forward (null without), for the ONNX exporter */
  _lastLengths: number[] | null = null;

  protected constructor(
    readonly mode: RNNMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: RNNBaseOptions & { projSize?: number; peephole?: boolean },
    layer: string,
  ) {
    super();
    checkCount(layer, 'inputSize', inputSize);
    checkCount(layer, 'hiddenSize', hiddenSize);
    this.numLayers = checkCount(layer, 'numLayers', options.numLayers ?? 1);
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new Error(`Kiln: ${layer}: dropout must be in [0, 1], got ${this.dropout}`);
    this.bidirectional = options.bidirectional ?? false;
    this.projSize = checkCount(layer, 'projSize', options.projSize ?? 0, 0);
    if (this.projSize >= hiddenSize) throw new Error(`Kiln: ${layer}: projSize must be smaller than hiddenSize ${hiddenSize}, got ${this.projSize}`);
    this.peephole = options.peephole ?? false;
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`Kiln: ${layer}: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
    this._generator = options.generator ?? defaultGenerator;

    // Parameters in PyTorch's order (layer, direction, then ih, hh, bias_ih, bias_hh, hr), so
    // state-dict keys and their order match torch.nn.RNN/GRU/LSTM.
    const G = GATES[mode] * hiddenSize;
    const P = this.projSize || hiddenSize;
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : P * this.numDirections;
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        this.setParam(`weight_ih${sfx}`, [G, inSize], dtype);
        this.setParam(`weight_hh${sfx}`, [G, P], dtype);
        if (this.bias) {
          this.setParam(`bias_ih${sfx}`, [G], dtype);
          this.setParam(`bias_hh${sfx}`, [G], dtype);
        }
        if (this.projSize) this.setParam(`weight_hr${sfx}`, [this.projSize, hiddenSize], dtype);
        if (this.peephole) this.setParam(`weight_peep${sfx}`, [3 * hiddenSize], dtype);
      }
    }
    this.resetParameters();
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** Size of the hidden state h (projSize when set). */
  get stateSize(): number {
    return this.projSize || this.hiddenSize;
  }

  private setParam(name: string, shape: number[], dtype: 'float32' | 'float64'): void {
    (this as unknown as Record<string, Tensor>)[name] = parameter(zeros(shape, { dtype }));
  }

  /** PyTorch's init: every weight and bias U(−1/√hidden, 1/√hidden). */
  resetParameters(): void {
    const k = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) uniform_(p, -k, k, this._generator);
  }

  /** The parameters of layer `l`, direction `d` (1 = reverse). */
  directionParams(l: number, d: number): DirectionParams {
    const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
    const get = (n: string): Tensor | null => ((this as unknown as Record<string, Tensor | undefined>)[`${n}${sfx}`] ?? null);
    return {
      weightIh: get('weight_ih')!, weightHh: get('weight_hh')!, biasIh: get('bias_ih'), biasHh: get('bias_hh'),
      weightHr: get('weight_hr'), peephole: get('weight_peep'),
    };
  }

  /** Runs one direction of one layer, `x` `[T, B, in]` (`[B, T, in]` when batchFirst); returns [output, hN, cN?]. */
  protected abstract runDirection(
    x: Tensor, p: DirectionParams, h0: Tensor | null, c0: Tensor | null, lengths: number[] | null, reverse: boolean, batchFirst: boolean,
  ): Tensor[];

  /**
   * The shared forward: `input` `[T, B, inputSize]` (`[B, T, inputSize]` with batchFirst, or
   * unbatched `[T, inputSize]`), states `[numLayers·dirs, B, size]` (unbatched: without B).
   * Returns [output, hN, cN?] with PyTorch's shapes.
   */
  protected runLayers(layer: string, input: Tensor, h0: Tensor | null, c0: Tensor | null, options: RNNForwardOptions | undefined): Tensor[] {
    checkOptions(layer, options, { lengths: lengthsKind }, 'forward options');
    if (!(input instanceof Tensor)) throw new Error(`Kiln: ${layer}: input must be a Tensor`);
    const I = this.inputSize;
    const order = this.batchFirst ? '[B, T, inputSize]' : '[T, B, inputSize]';
    if ((input.ndim !== 3 && input.ndim !== 2) || input.shape[input.ndim - 1] !== I) {
      throw new Error(`Kiln: ${layer}: input must be ${order.replace('inputSize', String(I))} or unbatched [T, ${I}], got ${shapeStr(input.shape)}`);
    }
    const batched = input.ndim === 3;
    // A batch-first input stays so: the recurrence ops read and write [B, T, *] themselves.
    const batchFirst = batched && this.batchFirst;
    let x = batched ? input : input.unsqueeze(1);
    if (x.dtype !== this.paramDType()) x = x.to(this.paramDType());
    const [T, B] = (batchFirst ? [x.shape[1], x.shape[0]] : x.shape) as [number, number];
    const LD = this.numLayers * this.numDirections;
    const P = this.stateSize;
    const H = this.hiddenSize;
    const checkState = (name: string, s: Tensor | null, size: number): Tensor | null => {
      if (s === null || s === undefined) return null;
      if (!(s instanceof Tensor)) throw new Error(`Kiln: ${layer}: ${name} must be a Tensor`);
      const want = batched ? [LD, B, size] : [LD, size];
      if (s.ndim !== want.length || s.shape.some((v, i) => v !== want[i])) {
        throw new Error(`Kiln: ${layer}: ${name} must have shape ${shapeStr(want)} (numLayers·directions = ${this.numLayers}·${this.numDirections}, ${batched ? `batch ${B}, ` : ''}size ${size}), got ${shapeStr(s.shape)}`);
      }
      const s3 = batched ? s : s.unsqueeze(1);
      return s3.dtype === this.paramDType() ? s3 : s3.to(this.paramDType());
    };
    const hx = checkState('h0', h0, P);
    const cx = checkState('c0', c0, H);
    const lengths = options?.lengths !== undefined && options.lengths !== null
      ? checkLengths(layer, options.lengths, B, T, input.shape)
      : null;
    // Read by the ONNX layer mapping, which sees tensors only: it refuses to drop lengths silently.
    this._lastLengths = lengths;

    const hN: Tensor[] = [];
    const cN: Tensor[] = [];
    let layerIn = x;
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const i = l * this.numDirections + d;
        const pick = (s: Tensor | null, size: number): Tensor | null => (s ? s.narrow(0, i, 1).reshape([B, size]) : null);
        const r = this.runDirection(layerIn, this.directionParams(l, d), pick(hx, P), pick(cx, H), lengths, d === 1, batchFirst);
        outs.push(r[0]!);
        hN.push(r[1]!);
        if (r[2]) cN.push(r[2]);
      }
      layerIn = outs.length === 1 ? outs[0]! : cat(outs, 2);
      if (this.dropout > 0 && this.training && l < this.numLayers - 1) {
        layerIn = dropout(layerIn, this.dropout, true, { generator: this._generator });
      }
    }
    let output = layerIn;
    let h = stack(hN, 0);
    let c = cN.length ? stack(cN, 0) : null;
    if (!batched) {
      output = output.squeeze(1);
      h = h.squeeze(1);
      c = c ? c.squeeze(1) : null;
    }
    return c ? [output, h, c] : [output, h];
  }

  paramDType(): 'float32' | 'float64' {
    return this.directionParams(0, 0).weightIh.dtype as 'float32' | 'float64';
  }

  override extraRepr(): string {
    const parts = [`${this.inputSize}, ${this.hiddenSize}`];
    if (this.projSize) parts.push(`projSize=${this.projSize}`);
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (!this.bias) parts.push('bias=false');
    if (this.batchFirst) parts.push('batchFirst=true');
    if (this.dropout) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push('bidirectional=true');
    if (this.peephole) parts.push('peephole=true');
    return parts.join(', ');
  }
}

/** The recurrence of one direction for each mode (the fused ops of @kiln/tensor). */
export function recurrence(
  mode: RNNMode, variant: 'pytorch' | 'course', x: Tensor, p: DirectionParams, h0: Tensor | null, c0: Tensor | null,
  lengths: number[] | null, reverse: boolean, batchFirst = false,
): Tensor[] {
  const common = { input: x, h0, weightIh: p.weightIh, weightHh: p.weightHh, biasIh: p.biasIh, biasHh: p.biasHh, lengths, reverse, batchFirst };
  if (mode === 'LSTM') return lstmRecurrence({ ...common, c0, weightHr: p.weightHr, peephole: p.peephole });
  if (mode === 'GRU') return variant === 'course' ? courseGruRecurrence(common) : gruRecurrence(common);
  return rnnRecurrence({ ...common, nonlinearity: mode === 'RNN_RELU' ? 'relu' : 'tanh' });
}
