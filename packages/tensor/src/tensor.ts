/**
 * The Tensor: an n-d array with a dtype, a contiguous row-major buffer, and autograd state.
 *
 * Tensors are always contiguous; `reshape`/`view` share the buffer, every other movement op
 * copies. Memory is garbage-collected like any JavaScript object: there is nothing to dispose.
 * Methods delegate to the op functions in `ops/`, where each op is defined once.
 */
import { bumpVersion, runBackward, type BackwardOptions, type GradNode } from './autograd.js';
import { kernels } from './backend.js';
import { allocate, castArray, type DType, type TypedArray } from './dtype.js';
import { formatShape, sizeOf, type Shape } from './shape.js';
import * as E from './ops/elementwise.js';
import * as R from './ops/reduce.js';
import * as M from './ops/movement.js';
import * as I from './ops/indexing.js';
import * as L from './ops/linalg.js';
import * as A from './ops/activation.js';
import { formatTensor } from './format.js';
import { noteTensor, ownData, scopeDepth } from './activations.js';

export type Scalar = number;
export type TensorLike = Tensor | number;

export class Tensor {
  /** @internal The buffer; shared with views made by reshape. */
  _data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** True when gradients should flow to this tensor. */
  requiresGrad = false;
  /** @internal See `grad`. */
  _grad: Tensor | null = null;
  /**
   * @internal Resident storage this leaf's gradient is written to (an optimizer sets it, see
   * `_adoptResident`); free for reuse while `_gradSlotFree`, which setting `grad` to null
   * (zeroGrad) makes true again.
   */
  _gradSlot: Float32Array | null = null;
  /** @internal */
  _gradSlotFree = false;

  /**
   * The accumulated gradient, set on leaves (and retained tensors) by backward(). For the
   * parameters of an optimizer on a backend with its own memory, backward writes it into a
   * buffer that is reused once the gradient is cleared (zeroGrad): keep `grad.clone()`, not
   * `grad`, to hold a gradient past the next zeroGrad.
   */
  get grad(): Tensor | null {
    return this._grad;
  }

  set grad(g: Tensor | null) {
    this._grad = g;
    if (g === null && this._gradSlot) this._gradSlotFree = true;
  }
  /** @internal The tape node that produced this tensor (null for leaves). */
  _node: GradNode | null = null;
  /** @internal */
  _retainsGrad = false;
  /** A name for error messages and graph export (modules set it to the parameter's key). */
  name?: string;

  /** @internal Use `tensor()` and the creation functions instead. */
  constructor(data: TypedArray, shape: Shape, dtype: DType) {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`Kiln: Tensor: buffer of ${data.length} elements does not fit shape ${formatShape(shape)}`);
    }
    this._data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    if (scopeDepth > 0) noteTensor(this); // a step scope's block or graph (activations.ts)
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  numel(): number {
    return this._data.length;
  }

  /** The size of `dim`, or the whole shape. */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    if (dim === undefined) return this.shape;
    return this.shape[M.dimIndex('size', dim, this.ndim)]!;
  }

  /** True when not produced by a recorded op (parameters, inputs). */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /**
   * The underlying typed array, live: writes to it change the tensor (like `.numpy()`). Inside a
   * `stepScope`, a tensor in the backend's memory first moves to the JS heap, so the array
   * returned is never memory the backend reuses.
   */
  dataSync(): TypedArray {
    return scopeDepth > 0 ? ownData(this) : this._data;
  }

  /** The values as nested arrays (booleans for bool tensors). */
  toArray(): unknown {
    const data = this._data;
    const bool = this.dtype === 'bool';
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return bool ? data[offset] !== 0 : data[offset];
      const n = this.shape[dim]!;
      const step = sizeOf(this.shape.slice(dim + 1));
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * step);
      return out;
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this._data.length !== 1) {
      throw new Error(`Kiln: item: expected a tensor with one element, got shape ${formatShape(this.shape)}`);
    }
    return this._data[0]!;
  }

  /**
   * Backpropagates from this tensor. A non-scalar needs `grad` (the gradient of some scalar
   * with respect to this tensor). The graph is freed afterwards unless `retainGraph`.
   */
  backward(grad?: Tensor | number, options?: BackwardOptions): void {
    if (!this.requiresGrad) {
      throw new Error(
        'Kiln: backward: this tensor does not require grad; none of its inputs had requiresGrad = true, or it was computed under noGrad()',
      );
    }
    let seed: Tensor;
    if (grad === undefined) {
      if (this.numel() !== 1) {
        throw new Error(
          `Kiln: backward: the tensor has shape ${formatShape(this.shape)}; backward() without a gradient needs a scalar (reduce with sum()/mean() first, or pass a gradient of the same shape)`,
        );
      }
      seed = E.fullOf(this.shape, 1, this.dtype);
    } else if (typeof grad === 'number') {
      seed = E.fullOf(this.shape, grad, this.dtype);
    } else {
      if (!M.sameShape(grad.shape, this.shape)) {
        throw new Error(`Kiln: backward: gradient shape ${formatShape(grad.shape)} differs from the tensor's ${formatShape(this.shape)}`);
      }
      seed = grad;
    }
    runBackward(this, seed, options);
  }

  /** Keeps `.grad` on this non-leaf tensor after backward. */
  retainGrad(): this {
    this._retainsGrad = true;
    return this;
  }

  /** @internal */
  _accumulateGrad(g: Tensor): void {
    const gg = g.dtype === this.dtype ? g : g.to(this.dtype);
    if (!this._grad && this._gradSlotFree && gg.dtype === 'float32') {
      // Into the resident slot, where the optimizer's fused update reads it in place.
      const slot = this._gradSlot!;
      if (gg._data !== slot) slot.set(gg._data);
      this._gradSlotFree = false;
      this._grad = new Tensor(slot, this.shape, this.dtype);
      return;
    }
    this.grad = this.grad ? this.grad.add(gg) : gg._data === this._data ? gg.clone() : gg;
  }

  /**
   * @internal A tensor on this leaf's free gradient slot for a kernel to write the gradient into
   * directly (then `_accumulateGrad` keeps it without a copy); null when there is none free.
   * The slot is handed out once until the gradient is cleared again.
   */
  _gradTarget(): Tensor | null {
    if (this._grad || !this._gradSlotFree || this.dtype !== 'float32') return null;
    this._gradSlotFree = false;
    return new Tensor(this._gradSlot!, this.shape, this.dtype);
  }

  /** @internal True once `_adoptResident` moved the values to resident storage. */
  _residentValues = false;

  /**
   * @internal Moves this float32 leaf's values to `data` (resident storage of the same length),
   * unless they are there already, and gives it the gradient slot `gradSlot` when one is given.
   * Done once, by an optimizer before training (values and slot) or by a module switched to
   * eval mode (values).
   */
  _adoptResident(data: Float32Array | null, gradSlot: Float32Array | null): void {
    if (data && !this._residentValues) {
      data.set(this._data as Float32Array);
      this._data = data;
      this._residentValues = true;
    }
    if (gradSlot && !this._gradSlot) {
      this._gradSlot = gradSlot;
      this._gradSlotFree = this._grad === null;
    }
  }

  /** Sets requiresGrad in place; only floating tensors can require grad. */
  requiresGrad_(flag = true): this {
    if (flag && this.dtype !== 'float32' && this.dtype !== 'float64') {
      throw new Error(`Kiln: requiresGrad_: only floating tensors can require gradients, got ${this.dtype}`);
    }
    this.requiresGrad = flag;
    return this;
  }

  /** A tensor sharing this one's data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this._data, this.shape, this.dtype);
  }

  /** A copy of the data that stays on the graph. */
  clone(): Tensor {
    return M.clone(this);
  }

  /** Casts to `dtype` (differentiable between floating types). */
  to(dtype: DType): Tensor {
    return E.cast(this, dtype);
  }

  /** Cast to float32. */
  float(): Tensor {
    return this.to('float32');
  }

  /** Cast to float64. */
  double(): Tensor {
    return this.to('float64');
  }

  /** Cast to int32 (truncating). */
  int(): Tensor {
    return this.to('int32');
  }

  /** Cast to bool (non-zero is true). */
  bool(): Tensor {
    return this.to('bool');
  }

  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatTensor(this);
  }

  // ---- in-place updates (for optimizers and initialisers; not recorded on the tape) ----

  /**
   * Records that this tensor's values were changed by writing to `dataSync()` directly, so
   * graphs built from the old values refuse to backpropagate (in-place ops do this themselves).
   */
  markModified(): this {
    bumpVersion(this._data);
    return this;
  }

  private checkInPlace(op: string): void {
    if (this.requiresGrad && this.isLeaf && E.gradRecording()) {
      throw new Error(
        `Kiln: ${op}: in-place update of a leaf tensor that requires grad; wrap it in noGrad() (as optimizers do)`,
      );
    }
    bumpVersion(this._data);
  }

  /** this ← other (broadcast to this shape); values are cast to this dtype. */
  copy_(other: TensorLike): this {
    this.checkInPlace('copy_');
    const src = typeof other === 'number' ? E.fullOf([], other, this.dtype) : other;
    const expanded = M.sameShape(src.shape, this.shape) ? src : M.expand(src.detach(), this.shape);
    this._data.set(src.dtype === this.dtype ? expanded._data : castArray(expanded._data, this.dtype));
    return this;
  }

  /** this ← value everywhere. */
  fill_(value: number): this {
    this.checkInPlace('fill_');
    this._data.fill(this.dtype === 'bool' ? (value ? 1 : 0) : value);
    return this;
  }

  /** this ← 0. */
  zero_(): this {
    return this.fill_(0);
  }

  /** this ← this + alpha·other. */
  add_(other: TensorLike, alpha = 1): this {
    return this.binaryInPlace('add_', 'add', alpha === 1 || typeof other === 'number' ? other : E.mul(other, alpha), alpha);
  }

  /** this ← this − alpha·other. */
  sub_(other: TensorLike, alpha = 1): this {
    return this.binaryInPlace('sub_', 'sub', alpha === 1 || typeof other === 'number' ? other : E.mul(other, alpha), alpha);
  }

  /** this ← this · other (broadcast into this shape). */
  mul_(other: TensorLike): this {
    return this.binaryInPlace('mul_', 'mul', other, 1);
  }

  /** this ← this / other (broadcast into this shape). */
  div_(other: TensorLike): this {
    return this.binaryInPlace('div_', 'div', other, 1);
  }

  /** Clamps into [min, max] in place. */
  clamp_(min?: number, max?: number): this {
    this.checkInPlace('clamp_');
    kernels().unary('clamp', this._data, this._data, min ?? -Infinity, max ?? Infinity);
    return this;
  }

  private binaryInPlace(name: string, op: 'add' | 'sub' | 'mul' | 'div', other: TensorLike, alpha: number): this {
    const b = typeof other === 'number' ? E.fullOf([], (op === 'add' || op === 'sub') ? other * alpha : other, this.dtype) : other;
    if (!M.broadcastsInto(b.shape, this.shape)) {
      throw new Error(`Kiln: ${name}: cannot broadcast ${formatShape(b.shape)} into the in-place target ${formatShape(this.shape)}`);
    }
    this.checkInPlace(name);
    // Values are cast to this tensor's dtype on the way in, as torch's in-place ops do.
    const bData = b.dtype === this.dtype ? b._data : castArray(b._data, this.dtype);
    kernels().binary(op, this._data, this.shape, bData, b.shape, this._data, this.shape);
    return this;
  }

  // ---- elementwise ----
  add(other: TensorLike): Tensor { return E.add(this, other); }
  sub(other: TensorLike): Tensor { return E.sub(this, other); }
  mul(other: TensorLike): Tensor { return E.mul(this, other); }
  div(other: TensorLike): Tensor { return E.div(this, other); }
  pow(exponent: TensorLike): Tensor { return E.pow(this, exponent); }
  neg(): Tensor { return E.neg(this); }
  maximum(other: TensorLike): Tensor { return E.maximum(this, other); }
  minimum(other: TensorLike): Tensor { return E.minimum(this, other); }
  eq(other: TensorLike): Tensor { return E.eq(this, other); }
  ne(other: TensorLike): Tensor { return E.ne(this, other); }
  lt(other: TensorLike): Tensor { return E.lt(this, other); }
  le(other: TensorLike): Tensor { return E.le(this, other); }
  gt(other: TensorLike): Tensor { return E.gt(this, other); }
  ge(other: TensorLike): Tensor { return E.ge(this, other); }
  logicalNot(): Tensor { return E.logicalNot(this); }
  logicalAnd(other: TensorLike): Tensor { return E.logicalAnd(this, other); }
  logicalOr(other: TensorLike): Tensor { return E.logicalOr(this, other); }
  exp(): Tensor { return E.exp(this); }
  log(): Tensor { return E.log(this); }
  log1p(): Tensor { return E.log1p(this); }
  expm1(): Tensor { return E.expm1(this); }
  sqrt(): Tensor { return E.sqrt(this); }
  rsqrt(): Tensor { return E.rsqrt(this); }
  abs(): Tensor { return E.abs(this); }
  sign(): Tensor { return E.sign(this); }
  sin(): Tensor { return E.sin(this); }
  cos(): Tensor { return E.cos(this); }
  tanh(): Tensor { return E.tanh(this); }
  sigmoid(): Tensor { return E.sigmoid(this); }
  relu(): Tensor { return E.relu(this); }
  erf(): Tensor { return E.erf(this); }
  floor(): Tensor { return E.floor(this); }
  ceil(): Tensor { return E.ceil(this); }
  round(): Tensor { return E.round(this); }
  reciprocal(): Tensor { return E.reciprocal(this); }
  square(): Tensor { return E.square(this); }
  leakyRelu(negativeSlope = 0.01): Tensor { return E.leakyRelu(this, negativeSlope); }
  elu(alpha = 1): Tensor { return E.elu(this, alpha); }
  softplus(beta = 1, threshold = 20): Tensor { return E.softplus(this, beta, threshold); }
  clamp(min?: number, max?: number): Tensor { return E.clamp(this, min, max); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return A.gelu(this, approximate); }
  isnan(): Tensor { return E.isnan(this); }
  isfinite(): Tensor { return E.isfinite(this); }

  // ---- reductions ----
  sum(dim?: number | readonly number[], keepdim = false): Tensor { return R.sum(this, dim, keepdim); }
  mean(dim?: number | readonly number[], keepdim = false): Tensor { return R.mean(this, dim, keepdim); }
  prod(dim?: number | readonly number[], keepdim = false): Tensor { return R.prod(this, dim, keepdim); }
  max(dim?: number | readonly number[], keepdim = false): Tensor { return R.max(this, dim, keepdim); }
  min(dim?: number | readonly number[], keepdim = false): Tensor { return R.min(this, dim, keepdim); }
  var(dim?: number | readonly number[], options?: R.VarOptions): Tensor { return R.variance(this, dim, options); }
  std(dim?: number | readonly number[], options?: R.VarOptions): Tensor { return R.std(this, dim, options); }
  logsumexp(dim?: number | readonly number[], keepdim = false): Tensor { return R.logsumexp(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return R.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return R.argmin(this, dim, keepdim); }
  softmax(dim: number): Tensor { return A.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return A.logSoftmax(this, dim); }

  // ---- linear algebra ----
  matmul(other: Tensor): Tensor { return L.matmul(this, other); }

  // ---- movement ----
  reshape(...shape: number[] | [readonly number[]]): Tensor { return M.reshape(this, M.shapeArgs(shape)); }
  view(...shape: number[] | [readonly number[]]): Tensor { return M.reshape(this, M.shapeArgs(shape)); }
  flatten(startDim = 0, endDim = -1): Tensor { return M.flatten(this, startDim, endDim); }
  unflatten(dim: number, sizes: readonly number[]): Tensor { return M.unflatten(this, dim, sizes); }
  transpose(dim0: number, dim1: number): Tensor { return M.transpose(this, dim0, dim1); }
  /** 2-D transpose (and 0/1-D identity), like torch.Tensor.t(). */
  t(): Tensor { return this.ndim < 2 ? this : M.transpose(this, 0, 1); }
  permute(...dims: number[] | [readonly number[]]): Tensor { return M.permute(this, M.shapeArgs(dims)); }
  squeeze(dim?: number | readonly number[]): Tensor { return M.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return M.unsqueeze(this, dim); }
  expand(...shape: number[] | [readonly number[]]): Tensor { return M.expand(this, M.shapeArgs(shape)); }
  expandAs(other: Tensor): Tensor { return M.expand(this, other.shape); }
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return M.slice(this, dim, start, end, step); }
  narrow(dim: number, start: number, length: number): Tensor { return M.narrow(this, dim, start, length); }
  split(sizeOrSections: number | readonly number[], dim = 0): Tensor[] { return M.split(this, sizeOrSections, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return M.chunk(this, chunks, dim); }
  flip(dims: number | readonly number[]): Tensor { return M.flip(this, dims); }
  repeat(...repeats: number[] | [readonly number[]]): Tensor { return M.repeat(this, M.shapeArgs(repeats)); }
  tril(diagonal = 0): Tensor { return M.tril(this, diagonal); }
  triu(diagonal = 0): Tensor { return M.triu(this, diagonal); }
  pad(pads: readonly number[], mode: M.PadMode = 'constant', value = 0): Tensor { return M.pad(this, pads, mode, value); }
  gather(dim: number, index: Tensor): Tensor { return I.gather(this, dim, index); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return I.scatterAdd(this, dim, index, src); }
  indexSelect(dim: number, index: Tensor): Tensor { return I.indexSelect(this, dim, index); }
  where(condition: Tensor, other: TensorLike): Tensor { return E.where(condition, this, other); }
}

/** Wraps a fresh buffer as a tensor (internal: no copy, no checks beyond the size). */
export function fromBuffer(data: TypedArray, shape: Shape, dtype: DType): Tensor {
  return new Tensor(data, shape, dtype);
}

export function emptyOf(shape: Shape, dtype: DType): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape, dtype);
}
