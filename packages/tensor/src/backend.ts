/**
 * The backend interface: the whole contract between Kiln's ops and a compute device.
 *
 * Ops (shape rules, dtype rules, gradients, tracing) live in `ops/` and are written once. A
 * backend only supplies kernels: functions over contiguous, row-major typed arrays that write
 * into an `out` array the op layer has already allocated with the right dtype and size. Kernels
 * never allocate tensors, never see autograd and never validate user input (the op layer has).
 *
 * A backend may implement any subset of {@link Kernels}; the rest fall back to the reference
 * backend, which implements all of them and is the specification every backend is tested
 * against. A backend may keep data in its own memory (a Wasm linear memory, say) between the
 * copies it makes inside a kernel, but what it receives and writes are plain typed arrays.
 */
import type { TypedArray } from './dtype.js';
import type { Shape } from './shape.js';

/** Elementwise unary kernels. `p0`/`p1` carry the parameters noted beside each op. */
export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'log1p' | 'expm1' | 'sqrt' | 'rsqrt' | 'abs' | 'sign'
  | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu' | 'erf' | 'floor' | 'ceil' | 'round'
  | 'reciprocal' | 'square' | 'logicalNot'
  | 'leakyRelu' // p0 = negative slope
  | 'elu' // p0 = alpha
  | 'softplus' // p0 = beta, p1 = threshold (linear above it, as in PyTorch)
  | 'clamp' // p0 = min, p1 = max (either may be ±Infinity)
  | 'cast'; // out's dtype decides

/** Elementwise binary kernels with NumPy broadcasting; comparisons and logic write 0/1. */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'logicalAnd' | 'logicalOr'
  | 'reluGrad'; // a where b > 0, else 0: relu's backward (a = dy, b = x) in one pass

export type ReduceOp = 'sum' | 'max' | 'min' | 'prod';

/**
 * Strided batched matrix multiply: for each `i < batch`,
 * `C_i (m×n) = op(A_i) (m×k) · op(B_i) (k×n)` (+ `C_i` when `accumulate`), where `op(A)` is A or
 * Aᵀ. Matrices are dense row-major blocks: `A_i` starts at `aOffset + i·aBatchStride` and is
 * m×k (k×m when `transA`); likewise B (k×n, or n×k when `transB`) and C (m×n). A batch stride of
 * 0 reuses one matrix for every batch entry.
 */
export interface GemmArgs {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  a: Float32Array | Float64Array;
  aOffset: number;
  aBatchStride: number;
  b: Float32Array | Float64Array;
  bOffset: number;
  bBatchStride: number;
  c: Float32Array | Float64Array;
  cOffset: number;
  cBatchStride: number;
  accumulate: boolean;
  /**
   * `n` values added to every row of C before the product is summed onto it, C = bias + A·B
   * (a dense layer's bias: no separate pass and no copy of C). Only with `accumulate` false.
   */
  bias?: Float32Array | Float64Array | null;
}

/**
 * Softmax (or log-softmax when `log`) along the middle axis of `x` viewed as `[outer, n, inner]`
 * (inner = 1 for the last axis): see backends/reference/softmax.ts for the formulas.
 */
export interface SoftmaxArgs {
  x: Float32Array | Float64Array;
  out: Float32Array | Float64Array;
  outer: number;
  n: number;
  inner: number;
  log: boolean;
}

/** The adjoint of {@link SoftmaxArgs}' op from its output `y` and the gradient `dy`; writes all of `dx`. */
export interface SoftmaxBackwardArgs {
  y: Float32Array | Float64Array;
  dy: Float32Array | Float64Array;
  dx: Float32Array | Float64Array;
  outer: number;
  n: number;
  inner: number;
  log: boolean;
}

/**
 * Layer normalisation of `x` viewed as `[rows, n]` (each row normalised over its n values with
 * the biased variance): y = (x − mean)·rstd·weight + bias with rstd = 1/√(var + eps), weight
 * and bias (n values each) optional. Writes `out` and each row's `mean` and `rstd` (rows values,
 * x's dtype), which the backward reads. See backends/reference/layer-norm.ts.
 */
export interface LayerNormArgs {
  x: Float32Array | Float64Array;
  weight: Float32Array | Float64Array | null;
  bias: Float32Array | Float64Array | null;
  out: Float32Array | Float64Array;
  mean: Float32Array | Float64Array;
  rstd: Float32Array | Float64Array;
  rows: number;
  n: number;
  eps: number;
}

/**
 * The adjoint of {@link LayerNormArgs}' op from x, the saved mean and rstd, and dy. Each of
 * `dx` (all of x), `dweight` and `dbias` (n values: the sums over rows) is written in full when
 * given; null ones are not computed.
 */
export interface LayerNormBackwardArgs {
  x: Float32Array | Float64Array;
  dy: Float32Array | Float64Array;
  weight: Float32Array | Float64Array | null;
  mean: Float32Array | Float64Array;
  rstd: Float32Array | Float64Array;
  dx: Float32Array | Float64Array | null;
  dweight: Float32Array | Float64Array | null;
  dbias: Float32Array | Float64Array | null;
  rows: number;
  n: number;
}

/**
 * Geometry of an N-d sliding window over `[batch, channels, ...inSize]` (1 ≤ N ≤ 3), shared by
 * convolution (im2col/col2im) and pooling. `padBegin`/`padEnd` are explicit per spatial dim.
 */
export interface WindowGeometry {
  batch: number;
  channels: number;
  inSize: number[];
  kernel: number[];
  stride: number[];
  padBegin: number[];
  padEnd: number[];
  dilation: number[];
  outSize: number[];
}

/**
 * Recurrent cells: the elementwise part of one time step of an RNN/LSTM/GRU for `batch` rows
 * (ops/recurrent.ts runs the GEMMs around them). Row r of every `[batch, k·hidden]` array holds
 * that row's gates side by side, in PyTorch's order. All arrays are dense row-major; every
 * output array is written in full for the `batch` rows (none is read first unless noted).
 */
export type RnnNonlinearity = 'tanh' | 'relu';

/** h = act(pre) for `[batch, hidden]`; `h` may alias `pre`. */
export interface RnnCellArgs {
  batch: number;
  hidden: number;
  nonlinearity: RnnNonlinearity;
  pre: Float32Array | Float64Array;
  h: Float32Array | Float64Array;
}

/** dPre = dh · act'(pre), written from h = act(pre) (1 − h² for tanh, h > 0 for relu); `dPre` may alias `dh`. */
export interface RnnCellBackwardArgs {
  batch: number;
  hidden: number;
  nonlinearity: RnnNonlinearity;
  dh: Float32Array | Float64Array;
  h: Float32Array | Float64Array;
  dPre: Float32Array | Float64Array;
}

/**
 * LSTM gates, `gates` `[batch, 4·hidden]` pre-activations (x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) in
 * the order i, f, g, o; with `peep` `[3·hidden]` (i, f, o peephole weights, else null):
 *   i = σ(a_i + p_i⊙c₀), f = σ(a_f + p_f⊙c₀), g = tanh(a_g), c = f⊙c₀ + i⊙g,
 *   o = σ(a_o + p_o⊙c), h = o⊙tanh(c)
 * where c₀ = `cPrev`. Writes `act` `[batch, 4·hidden]` = (i, f, g, o) — `act` may alias
 * `gates` —, `c` and `h` `[batch, hidden]`.
 */
export interface LstmCellArgs {
  batch: number;
  hidden: number;
  gates: Float32Array | Float64Array;
  cPrev: Float32Array | Float64Array;
  peep: Float32Array | Float64Array | null;
  act: Float32Array | Float64Array;
  c: Float32Array | Float64Array;
  h: Float32Array | Float64Array;
}

/**
 * The adjoint of lstmCell given dh and dc (the gradients reaching h and c from later steps and
 * the outputs), from the saved `act`, `cPrev` and `c`: writes `dGates` `[batch, 4·hidden]` (with
 * respect to the pre-activations) and `dcPrev`; with `peep`, adds Σ_rows into `dPeep` `[3·hidden]`
 * (accumulates: the caller zeroes it once). `dcPrev` may alias `dc`.
 */
export interface LstmCellBackwardArgs {
  batch: number;
  hidden: number;
  dh: Float32Array | Float64Array;
  dc: Float32Array | Float64Array;
  act: Float32Array | Float64Array;
  cPrev: Float32Array | Float64Array;
  c: Float32Array | Float64Array;
  peep: Float32Array | Float64Array | null;
  dGates: Float32Array | Float64Array;
  dcPrev: Float32Array | Float64Array;
  dPeep: Float32Array | Float64Array | null;
}

/**
 * A whole LSTM layer direction over `steps` time steps (time-major arrays, rows sorted by length,
 * longest first; h has `stateSize` = P units, P = hidden unless `weightHr` projects it): at each
 * step t (T−1 .. 0 when `reverse`), rows 0..active[t]−1 run
 *   gates = x_t·W_ihᵀ + b_ih + b_hh + h·W_hhᵀ, lstmCell, m = o⊙tanh(c), h = m·W_hrᵀ (or h = m)
 * and the other rows keep their state. `h` `[B, P]` and `c` `[B, hidden]` go from the initial
 * to the final state. Writes, for the active rows of each step (other rows are left as they
 * are): `output` (h) and `hPrev` (the h it started from) `[T, B, P]`, `cPrev` and `cAll` (c
 * before and after) `[T, B, hidden]`, with a projection `mAll` (m) `[T, B, hidden]`, and `act`
 * (i, f, g, o) `[T, B, 4·hidden]` (its inactive rows are scratch).
 */
export interface LstmSequenceArgs {
  steps: number;
  batch: number;
  hidden: number;
  stateSize: number;
  inputSize: number;
  active: Int32Array;
  reverse: boolean;
  /** `[T, B, inputSize]`. */
  input: Float32Array | Float64Array;
  weightIh: Float32Array | Float64Array;
  weightHh: Float32Array | Float64Array;
  biasIh: Float32Array | Float64Array | null;
  biasHh: Float32Array | Float64Array | null;
  weightHr: Float32Array | Float64Array | null;
  peep: Float32Array | Float64Array | null;
  h: Float32Array | Float64Array;
  c: Float32Array | Float64Array;
  act: Float32Array | Float64Array;
  output: Float32Array | Float64Array;
  hPrev: Float32Array | Float64Array;
  cPrev: Float32Array | Float64Array;
  cAll: Float32Array | Float64Array;
  mAll: Float32Array | Float64Array | null;
}

/**
 * Backpropagation through time of {@link LstmSequenceArgs} from its saved arrays, steps in the
 * opposite order: `dh` `[B, P]` and `dc` `[B, hidden]` go from the gradients reaching the final
 * state to those of the initial one; at each step the active rows take dh + `dOutput[t]`, go
 * back through W_hr (with a projection) and lstmCellBackward to the gate gradients dG_t, and
 * carry dh = dG_t·W_hh. Then, over all steps (each output may be null when not wanted; every
 * one is overwritten): `dInput` = dG·W_ih `[T, B, inputSize]` (zero on inactive rows),
 * `dWeightIh` = Σ dGᵀ·x, `dWeightHh` = Σ dGᵀ·hPrev, `dBias` = Σ dG (the gradient of b_ih and of
 * b_hh) `[4·hidden]`, `dWeightHr`; `dPeep` accumulates as in lstmCellBackward.
 */
export interface LstmSequenceBackwardArgs {
  steps: number;
  batch: number;
  hidden: number;
  stateSize: number;
  inputSize: number;
  active: Int32Array;
  reverse: boolean;
  input: Float32Array | Float64Array;
  weightIh: Float32Array | Float64Array;
  weightHh: Float32Array | Float64Array;
  weightHr: Float32Array | Float64Array | null;
  peep: Float32Array | Float64Array | null;
  dOutput: Float32Array | Float64Array;
  dh: Float32Array | Float64Array;
  dc: Float32Array | Float64Array;
  act: Float32Array | Float64Array;
  hPrev: Float32Array | Float64Array;
  cPrev: Float32Array | Float64Array;
  cAll: Float32Array | Float64Array;
  mAll: Float32Array | Float64Array | null;
  dInput: Float32Array | Float64Array | null;
  dWeightIh: Float32Array | Float64Array | null;
  dWeightHh: Float32Array | Float64Array | null;
  dBias: Float32Array | Float64Array | null;
  dWeightHr: Float32Array | Float64Array | null;
  dPeep: Float32Array | Float64Array | null;
}

/**
 * GRU gates as PyTorch (and ONNX with linear_before_reset = 1) compute them: `xGates` =
 * x·W_ihᵀ + b_ih and `hGates` = h₀·W_hhᵀ + b_hh, both `[batch, 3·hidden]` in the order r, z, n:
 *   r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r⊙h_n), h = (1 − z)⊙n + z⊙h₀
 * where h₀ = `hPrev`. Writes `act` `[batch, 4·hidden]` = (r, z, n, h_n) and `h`.
 */
export interface GruCellArgs {
  batch: number;
  hidden: number;
  xGates: Float32Array | Float64Array;
  hGates: Float32Array | Float64Array;
  hPrev: Float32Array | Float64Array;
  act: Float32Array | Float64Array;
  h: Float32Array | Float64Array;
}

/**
 * The adjoint of gruCell given dh: writes `dxGates` and `dhGates` `[batch, 3·hidden]` (equal
 * except the n block, which is r⊙ that of dxGates) and `dhPrev` = dh⊙z (the part that bypasses
 * W_hh; the caller adds dhGates·W_hh).
 */
export interface GruCellBackwardArgs {
  batch: number;
  hidden: number;
  dh: Float32Array | Float64Array;
  act: Float32Array | Float64Array;
  hPrev: Float32Array | Float64Array;
  dxGates: Float32Array | Float64Array;
  dhGates: Float32Array | Float64Array;
  dhPrev: Float32Array | Float64Array;
}

/**
 * CTC over a batch (see ops/ctc.ts): `logProbs` `[time, batch, classes]`; sample n has
 * `inputLengths[n]` frames and the labels `targets[targetOffsets[n] ..][:targetLengths[n]]`.
 * `logAlpha` `[batch, time, 2·maxTargetLength+1]` holds the forward variables: ctcLoss writes
 * them, ctcLossBackward reads them.
 */
export interface CtcArgs {
  logProbs: Float32Array | Float64Array;
  time: number;
  batch: number;
  classes: number;
  blank: number;
  targets: Int32Array;
  targetOffsets: Int32Array;
  targetLengths: Int32Array;
  inputLengths: Int32Array;
  maxTargetLength: number;
  logAlpha: Float64Array;
}

/**
 * Float64 storage with an owner and a lifetime — an optimizer's momentum buffers and moment
 * estimates. A backend with its own memory keeps it there (the wasm backend: in its linear
 * memory), so its optimizer kernel updates it in place; the reference keeps a Float64Array.
 * Fresh storage holds zeros.
 */
export interface StateArena {
  readonly length: number;
  /** Values [offset, offset + length) as a Float64Array; a fresh view, valid until the next kernel call or allocation. */
  view(offset: number, length: number): Float64Array;
  /** Gives the storage back (an optimizer does this from a finaliser); no use afterwards. */
  free(): void;
}

/**
 * One fused optimizer update over a group of parameters, with PyTorch's formulas (written out
 * in `@kiln/optim` and in backends/reference/optim.ts, the specification). `params[i]` is
 * updated in place from `grads[i]`; its state is elements [offsets[i], offsets[i] + length) of
 * every state arena of the rule. State is float64 whatever the parameter's dtype.
 */
export type OptimizerStepArgs = {
  params: (Float32Array | Float64Array)[];
  grads: (Float32Array | Float64Array)[];
  offsets: number[];
  lr: number;
  weightDecay: number;
} & (
  | {
    rule: 'sgd';
    momentum: number;
    dampening: number;
    nesterov: boolean;
    maximize: boolean;
    /** True on a parameter's first momentum step: the buffer starts at the gradient. */
    first: boolean;
    /** Null when momentum is 0. */
    momentumBuffer: StateArena | null;
  }
  | {
    rule: 'rmsprop';
    alpha: number;
    eps: number;
    momentum: number;
    squareAvg: StateArena;
    /** Present when centered. */
    gradAvg: StateArena | null;
    /** Present when momentum > 0. */
    momentumBuffer: StateArena | null;
  }
  | {
    rule: 'adam';
    beta1: number;
    beta2: number;
    eps: number;
    /** AdamW: weight decay shrinks w instead of entering the gradient. */
    decoupled: boolean;
    /** The step number t of every parameter in this call (bias corrections 1 − βᵗ). */
    step: number;
    expAvg: StateArena;
    expAvgSq: StateArena;
    /** Present with amsgrad. */
    maxExpAvgSq: StateArena | null;
  }
);

/** Bounds [min, max] a convolution's output is clamped into (convForward). */
export type ConvClamp = readonly [number, number];

export interface Kernels {
  unary(op: UnaryOp, x: TypedArray, out: TypedArray, p0: number, p1: number): void;
  binary(op: BinaryOp, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape): void;
  /** out = cond ? a : b, all three broadcast to `outShape`. */
  where(cond: Uint8Array, condShape: Shape, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape): void;
  /** Reduces `axes` (sorted, unique) of x; `out` has the kept-dims shape (reduced dims = 1). */
  reduce(op: ReduceOp, x: TypedArray, shape: Shape, axes: readonly number[], out: TypedArray): void;
  /** Index of the first max/min along `axis`; `out` has shape with `axis` set to 1. */
  argReduce(op: 'argmax' | 'argmin', x: TypedArray, shape: Shape, axis: number, out: Int32Array): void;
  gemm(args: GemmArgs): void;
  /** Softmax / log-softmax along one axis, fused (max, exp, sum, normalise), and its backward. */
  softmax(args: SoftmaxArgs): void;
  softmaxBackward(args: SoftmaxBackwardArgs): void;
  /** Layer norm over the last axis, fused (moments, normalise, scale and shift), and its backward. */
  layerNorm(args: LayerNormArgs): void;
  layerNormBackward(args: LayerNormBackwardArgs): void;
  /** out[i] = x[offset + Σ_d idx_d · strides[d]] for every index i of `shape` (strides may be 0 or negative). */
  stridedCopy(x: TypedArray, offset: number, shape: Shape, strides: readonly number[], out: TypedArray): void;
  /** The adjoint of stridedCopy: out[offset + Σ_d idx_d · strides[d]] += src[i]. */
  stridedAccumulate(src: TypedArray, out: TypedArray, offset: number, shape: Shape, strides: readonly number[]): void;
  /** out[..i..] = x[.., index[..i..], ..] along `dim` (torch.gather). */
  gather(x: TypedArray, xShape: Shape, dim: number, index: Int32Array, indexShape: Shape, out: TypedArray): void;
  /** out[.., index[..i..], ..] += src[..i..] along `dim`, in place (torch.scatter_add_). */
  scatterAdd(out: TypedArray, outShape: Shape, dim: number, index: Int32Array, indexShape: Shape, src: TypedArray): void;
  /** Selects slices `index` along `dim` (torch.index_select). */
  indexSelect(x: TypedArray, xShape: Shape, dim: number, index: Int32Array, out: TypedArray): void;
  /** out[.., index[j], ..] += src[.., j, ..] along `dim`, in place (torch.index_add_). */
  indexAdd(out: TypedArray, outShape: Shape, dim: number, index: Int32Array, src: TypedArray): void;
  /**
   * Unfolds windows: x `[batch, channels, ...inSize]` → cols `[batch, channels·Πkernel, Πout]`,
   * zero where a window reaches into the padding.
   */
  im2col(x: Float32Array | Float64Array, g: WindowGeometry, cols: Float32Array | Float64Array): void;
  /** The adjoint of im2col: accumulates cols back into `x` (which the caller has zeroed). */
  col2im(cols: Float32Array | Float64Array, g: WindowGeometry, x: Float32Array | Float64Array): void;
  /**
   * Max pooling over `[batch, channels, ...inSize]`; padding counts as -Infinity. `indices`
   * receives, per output, the flat index of the chosen input inside its (batch, channel) plane;
   * null when nobody needs them (inference), so a kernel may skip them.
   */
  maxPool(x: Float32Array | Float64Array, g: WindowGeometry, out: Float32Array | Float64Array, indices: Int32Array | null): void;
  /**
   * dx = the scatter of dy: dx[plane][indices[j]] = Σ dy[j] over the outputs that chose it, 0
   * elsewhere. Every element is written; what dx held is never read (so it need not be zeroed).
   */
  maxPoolBackward(dy: Float32Array | Float64Array, indices: Int32Array, g: WindowGeometry, dx: Float32Array | Float64Array): void;
  /**
   * Average pooling. The divisor is the window's size clipped to the padded input when
   * `countIncludePad`, to the real input otherwise (the ceil-mode overhang never counts).
   */
  avgPool(x: Float32Array | Float64Array, g: WindowGeometry, countIncludePad: boolean, out: Float32Array | Float64Array): void;
  avgPoolBackward(dy: Float32Array | Float64Array, g: WindowGeometry, countIncludePad: boolean, dx: Float32Array | Float64Array): void;
  /**
   * Convolution: out `[N, cOut, ...outSize]` = x `[N, C, ...inSize]` ⋆ w `[cOut, C/groups,
   * ...kernel]` (+ bias[c] on channel c when `bias` is given), then clamped into `clamp` when
   * given (a fused ReLU/ReLU6, as the clamp op does it). Every element of out is written; what
   * it held is never read (so it need not be zeroed). The reference composes im2col and gemm.
   */
  convForward(x: Float32Array | Float64Array, w: Float32Array | Float64Array, bias: Float32Array | Float64Array | null, g: WindowGeometry, cOut: number, groups: number, out: Float32Array | Float64Array, clamp?: ConvClamp | null): void;
  /** dx += the adjoint of convForward (without bias) applied to dy (dx as the caller passes it, usually zeroed). */
  convBackwardInput(dy: Float32Array | Float64Array, w: Float32Array | Float64Array, g: WindowGeometry, cOut: number, groups: number, dx: Float32Array | Float64Array): void;
  /**
   * dw = Σ over the batch of dy ⋆ x, per group (overwritten: what dw held is never read, so a
   * reused gradient buffer needs no zeroing pass); with `dBias`, also dBias[c] += Σ over the batch
   * and positions of dy on channel c (dBias as the caller passes it, usually zeroed).
   */
  convBackwardWeight(x: Float32Array | Float64Array, dy: Float32Array | Float64Array, g: WindowGeometry, cOut: number, groups: number, dw: Float32Array | Float64Array, dBias?: Float32Array | Float64Array | null): void;
  /**
   * Per-channel statistics over `shape` `[n, c, s]` (batch, channels, the rest flattened), for
   * batch normalisation: mean[c] and the biased variance[c] over the batch and positions.
   */
  channelMoments(x: Float32Array | Float64Array, shape: readonly [number, number, number], mean: Float64Array, variance: Float64Array): void;
  /** out = x·a[c] + b[c] (+ z·e[c] when `z` is given) over `[n, c, s]`, rounded once; `out` may alias x or z. */
  channelAffine(x: Float32Array | Float64Array, shape: readonly [number, number, number], a: Float64Array, b: Float64Array, out: Float32Array | Float64Array, z?: Float32Array | Float64Array | null, e?: Float64Array | null): void;
  /** Per channel of `[n, c, s]`: sums[c] = Σ dy and dots[c] = Σ dy·(x − center[c]). */
  channelGradSums(dy: Float32Array | Float64Array, x: Float32Array | Float64Array, shape: readonly [number, number, number], center: Float64Array, sums: Float64Array, dots: Float64Array): void;
  /** Recurrent cells (see {@link LstmCellArgs} and siblings): one time step's gate nonlinearities, fused. */
  rnnCell(args: RnnCellArgs): void;
  rnnCellBackward(args: RnnCellBackwardArgs): void;
  lstmCell(args: LstmCellArgs): void;
  lstmCellBackward(args: LstmCellBackwardArgs): void;
  /** A whole LSTM direction: every step's W_hh GEMM and fused cell ({@link LstmSequenceArgs}). */
  lstmSequence(args: LstmSequenceArgs): void;
  lstmSequenceBackward(args: LstmSequenceBackwardArgs): void;
  gruCell(args: GruCellArgs): void;
  gruCellBackward(args: GruCellBackwardArgs): void;
  /** Storage for optimizer state of `length` float64 values, zeroed (see {@link StateArena}). */
  stateArena(length: number): StateArena;
  /**
   * Optional: float32 arrays of these lengths, back to back in the backend's own memory, where
   * its kernels read and write them without copies (values unspecified; freed when collected).
   * Optimizers move their float32 parameters and gradient slots there. Null when there is no
   * room; backends without their own memory leave it out.
   */
  residentArrays?(lengths: readonly number[]): Float32Array[] | null;
  /**
   * Optional: `length` float32 values in the backend's own memory for an op output whose
   * lifetime the autograd engine manages (src/activations.ts), zeroed when `zero`; null when
   * there is no room. The engine gives every one back with `releaseActivation` once nothing
   * reads it any more, and never lets one reach user code.
   */
  takeActivation?(length: number, zero: boolean): Float32Array | null;
  /** Gives back an array `takeActivation` returned; its memory may be reused at once. */
  releaseActivation?(array: Float32Array): void;
  /** One optimizer step over a parameter group (see {@link OptimizerStepArgs}). */
  optimizerStep(args: OptimizerStepArgs): void;
  /** CTC: nll[n] = −log p(target_n | x_n) (Infinity when no alignment fits), filling `args.logAlpha`. */
  ctcLoss(args: CtcArgs, nll: Float64Array): void;
  /** grad (zeroed by the caller) = gradNll[n]·∂nll[n]/∂logProbs, using the logAlpha ctcLoss wrote. */
  ctcLossBackward(args: CtcArgs, nll: Float64Array, gradNll: Float64Array, grad: Float32Array | Float64Array): void;
}

export interface Backend {
  readonly name: string;
  readonly kernels: Partial<Kernels>;
  /** Optional: the number of threads kernels may use. */
  setNumThreads?(n: number): void;
  getNumThreads?(): number;
  /** Optional: resolves once the threads `getNumThreads()` promises can run kernels (starting them if needed). */
  threadsReady?(): Promise<void>;
}

const registry = new Map<string, Backend>();
let reference: Kernels | null = null;
let active: { backend: Backend; kernels: Kernels } | null = null;

/** Registers the reference backend, the fallback for every kernel another backend leaves out. */
export function registerReferenceBackend(backend: Backend & { kernels: Kernels }): void {
  reference = backend.kernels;
  registerBackend(backend);
  if (!active) active = { backend, kernels: backend.kernels };
}

/** Adds a backend under its name; select it with setBackend. */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...registry.keys()];
}

/** Selects the backend all subsequent ops run on. */
export function setBackend(name: string): void {
  const backend = registry.get(name);
  if (!backend) throw new Error(`Kiln: setBackend: unknown backend '${name}' (registered: ${listBackends().join(', ')})`);
  if (!reference) throw new Error('Kiln: setBackend: the reference backend is not registered');
  active = { backend, kernels: { ...reference, ...backend.kernels } as Kernels };
}

/** The active backend. */
export function getBackend(): Backend {
  if (!active) throw new Error('Kiln: no backend registered');
  return active.backend;
}

/** The kernels of the active backend, with reference fallbacks filled in. */
export function kernels(): Kernels {
  if (!active) throw new Error('Kiln: no backend registered');
  return active.kernels;
}

/** Runs `fn` with `name` as the active backend, then restores the previous one. */
export function withBackend<T>(name: string, fn: () => T): T {
  const previous = active;
  setBackend(name);
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/** Sets the number of threads backends may use (backends without threads ignore it). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`Kiln: setNumThreads: expected a positive integer, got ${n}`);
  for (const b of registry.values()) b.setNumThreads?.(n);
}

/**
 * Resolves once the active backend's threads (as many as `getNumThreads()`) are started and
 * can run kernels; until then kernels run on fewer threads (same results, less speed). Rejects
 * with an error naming the thread when one fails to start or is not ready within the backend's
 * bound. Await it before timing anything, or where a test needs the threads.
 */
export async function threadsReady(): Promise<void> {
  await getBackend().threadsReady?.();
}

/** The active backend's thread count (1 for single-threaded backends). */
export function getNumThreads(): number {
  return getBackend().getNumThreads?.() ?? 1;
}
