/**
 * Elementwise ops. Each unary op is one row of {@link UNARY}: its dtype rule and its gradient;
 * the scalar function lives in the backend. Binary ops broadcast (NumPy rules) and un-broadcast
 * their gradients with sumTo.
 */
import { isGradEnabled } from '../autograd.js';
import { kernels, type BinaryOp, type UnaryOp } from '../backend.js';
import { floatingOf, isDType, isFloatingDType, type DType } from '../dtype.js';
import { broadcastShapes, sizeOf, type Shape } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { empty, finish, operand, resultType, scalarTensor, sumTo, uninitialized } from './core.js';

export const gradRecording = isGradEnabled;

/** A tensor of `shape` filled with `value`. */
export function fullOf(shape: Shape, value: number, dtype: DType): Tensor {
  const t = empty(shape, dtype);
  t._data.fill(dtype === 'bool' ? (value ? 1 : 0) : value);
  return t;
}

// ---------------------------------------------------------------- unary

type UnaryGrad = (x: Tensor, y: Tensor, g: Tensor, p0: number, p1: number) => Tensor;

interface UnaryRule {
  /** 'float': integer inputs become float32; 'same': the dtype is kept. */
  dtype: 'float' | 'same';
  /** Undefined means the op is piecewise constant: zero gradient. */
  grad?: UnaryGrad;
}

const mask = (t: Tensor): Tensor => t.to(floatingOf('float32'));

const UNARY: { [K in Exclude<UnaryOp, 'cast'>]: UnaryRule } = {
  neg: { dtype: 'same', grad: (_x, _y, g) => g.neg() },
  exp: { dtype: 'float', grad: (_x, y, g) => g.mul(y) },
  log: { dtype: 'float', grad: (x, _y, g) => g.div(x) },
  log1p: { dtype: 'float', grad: (x, _y, g) => g.div(x.add(1)) },
  expm1: { dtype: 'float', grad: (_x, y, g) => g.mul(y.add(1)) },
  sqrt: { dtype: 'float', grad: (_x, y, g) => g.div(y.mul(2)) },
  rsqrt: { dtype: 'float', grad: (_x, y, g) => g.mul(y.pow(3)).mul(-0.5) },
  abs: { dtype: 'same', grad: (x, _y, g) => g.mul(x.sign()) },
  sign: { dtype: 'same' },
  sin: { dtype: 'float', grad: (x, _y, g) => g.mul(x.cos()) },
  cos: { dtype: 'float', grad: (x, _y, g) => g.mul(x.sin()).neg() },
  tanh: { dtype: 'float', grad: (_x, y, g) => g.mul(y.square().neg().add(1)) },
  sigmoid: { dtype: 'float', grad: (_x, y, g) => g.mul(y.mul(y.neg().add(1))) },
  relu: { dtype: 'same', grad: (x, _y, g) => reluGrad(g, x) },
  erf: { dtype: 'float', grad: (x, _y, g) => g.mul(x.square().neg().exp().mul(2 / Math.sqrt(Math.PI))) },
  floor: { dtype: 'same' },
  ceil: { dtype: 'same' },
  round: { dtype: 'same' },
  reciprocal: { dtype: 'float', grad: (_x, y, g) => g.mul(y.square()).neg() },
  square: { dtype: 'same', grad: (x, _y, g) => g.mul(x).mul(2) },
  logicalNot: { dtype: 'same' },
  leakyRelu: { dtype: 'float', grad: (x, _y, g, slope) => where(x.gt(0), g, g.mul(slope)) },
  elu: { dtype: 'float', grad: (x, y, g, alpha) => where(x.gt(0), g, g.mul(y.add(alpha))) },
  softplus: {
    dtype: 'float',
    grad: (x, _y, g, beta, threshold) => where(x.mul(beta).gt(threshold), g, g.mul(x.mul(beta).sigmoid())),
  },
  clamp: { dtype: 'same', grad: (x, _y, g, lo, hi) => where(x.ge(lo).logicalAnd(x.le(hi)), g, 0) },
};

/** relu's backward in one kernel pass: dy where x > 0, else 0 (runs inside backward, off the trace). */
function reluGrad(g: Tensor, x: Tensor): Tensor {
  const dy = g.dtype === x.dtype ? g : g.to(x.dtype);
  const out = uninitialized(x.shape, x.dtype);
  kernels().binary('reluGrad', dy._data, dy.shape, x._data, x.shape, out._data, out.shape);
  return out;
}

function unaryOp(op: Exclude<UnaryOp, 'cast'>, x: Tensor, p0 = 0, p1 = 0, attrs: Record<string, unknown> = {}): Tensor {
  const rule = UNARY[op];
  const dtype = op === 'logicalNot' ? 'bool' : rule.dtype === 'float' ? floatingOf(x.dtype) : x.dtype;
  const input = op === 'logicalNot' || x.dtype === dtype ? x : x.to(dtype);
  const out = uninitialized(x.shape, dtype);
  kernels().unary(op, input._data, out._data, p0, p1);
  const grad = rule.grad;
  return finish(out, op, [x], attrs, (g) => [grad ? grad(input, out, g, p0, p1) : null]);
}

/** −x. */
export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
/** eˣ. */
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unaryOp('log', x);
/** log(1 + x), accurate near 0. */
export const log1p = (x: Tensor): Tensor => unaryOp('log1p', x);
/** eˣ − 1, accurate near 0. */
export const expm1 = (x: Tensor): Tensor => unaryOp('expm1', x);
/** √x. */
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
/** 1/√x. */
export const rsqrt = (x: Tensor): Tensor => unaryOp('rsqrt', x);
/** |x| (gradient sign(x), 0 at 0). */
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
/** −1, 0 or 1 (zero gradient). */
export const sign = (x: Tensor): Tensor => unaryOp('sign', x);
/** sin x. */
export const sin = (x: Tensor): Tensor => unaryOp('sin', x);
/** cos x. */
export const cos = (x: Tensor): Tensor => unaryOp('cos', x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
/** Logistic sigmoid 1/(1+e⁻ˣ), computed without overflow. */
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
/** max(x, 0) (gradient 0 at 0, as in PyTorch). */
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
/** The error function. */
export const erf = (x: Tensor): Tensor => unaryOp('erf', x);
/** Largest integer ≤ x (zero gradient). */
export const floor = (x: Tensor): Tensor => unaryOp('floor', x);
/** Smallest integer ≥ x (zero gradient). */
export const ceil = (x: Tensor): Tensor => unaryOp('ceil', x);
/** Round half to even (zero gradient). */
export const round = (x: Tensor): Tensor => unaryOp('round', x);
/** 1/x. */
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', x);
/** x². */
export const square = (x: Tensor): Tensor => unaryOp('square', x);
/** Elementwise NOT, as bool. */
export const logicalNot = (x: Tensor): Tensor => unaryOp('logicalNot', x);
/** x for x > 0, slope·x otherwise. */
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor =>
  unaryOp('leakyRelu', x, negativeSlope, 0, { negativeSlope });
/** x for x > 0, α(eˣ − 1) otherwise. */
export const elu = (x: Tensor, alpha = 1): Tensor => unaryOp('elu', x, alpha, 0, { alpha });
/** log(1 + e^(βx))/β, linear where βx > threshold (PyTorch's definition). */
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor =>
  unaryOp('softplus', x, beta, threshold, { beta, threshold });

/** Clamps into [min, max]; either bound may be omitted. Gradient flows where min ≤ x ≤ max. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min === undefined && max === undefined) throw new Error('Kiln: clamp: give at least one of min and max');
  if (min !== undefined && max !== undefined && min > max) {
    throw new Error(`Kiln: clamp: min ${min} is greater than max ${max}`);
  }
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  return unaryOp('clamp', x, lo, hi, { min: lo, max: hi });
}

/** Casts to `dtype`; gradients flow between floating dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  if (!isDType(dtype)) throw new Error(`Kiln: cast: unknown dtype '${String(dtype)}' (expected float32, float64, int32 or bool)`);
  const out = uninitialized(x.shape, dtype);
  kernels().unary('cast', x._data, out._data, 0, 0);
  const differentiable = isFloatingDType(dtype) && isFloatingDType(x.dtype);
  return finish(out, 'cast', [x], { to: dtype }, differentiable ? (g) => [g.to(x.dtype)] : undefined);
}

/** True where x is NaN. */
export function isnan(x: Tensor): Tensor {
  return x.ne(x);
}

/** True where x is neither infinite nor NaN. */
export function isfinite(x: Tensor): Tensor {
  return x.sub(x).eq(0);
}

// ---------------------------------------------------------------- binary

type BinaryGrad = (a: Tensor, b: Tensor, out: Tensor, g: Tensor) => [Tensor | null, Tensor | null];

function binaryOp(op: BinaryOp, x: TensorLike, y: TensorLike, outKind: 'same' | 'float' | 'bool', grad?: BinaryGrad): Tensor {
  if (!(x instanceof Tensor) && !(y instanceof Tensor)) {
    throw new Error(`Kiln: ${op}: at least one operand must be a Tensor`);
  }
  let dtype = resultType(x, y);
  if (outKind === 'float') dtype = floatingOf(dtype);
  if (op === 'logicalAnd' || op === 'logicalOr') dtype = 'bool';
  const a = operand(x, dtype);
  const b = operand(y, dtype);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = uninitialized(shape, outKind === 'bool' ? 'bool' : dtype);
  kernels().binary(op, a._data, a.shape, b._data, b.shape, out._data, shape);
  return finish(out, op, [a, b], {}, grad ? (g) => {
    const [ga, gb] = grad(a, b, out, g);
    return [ga && sumTo(ga, a.shape), gb && sumTo(gb, b.shape)];
  } : undefined);
}

/** a + b, broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp('add', a, b, 'same', (_a, _b, _o, g) => [g, g]);
/**
 * a − b, broadcasting. b's gradient is negated after it is summed down to b's shape (rounding is
 * symmetric, so the values are those of negating first, up to the sign of a zero sum), which for
 * a broadcast b negates a small tensor instead of one of the output's size.
 */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp('sub', a, b, 'same', (_a, y, _o, g) => [g, sumTo(g, y.shape).neg()]);
/** a · b, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('mul', a, b, 'same', (x, y, _o, g) => [g.mul(y), g.mul(x)]);
/** a / b (true division: integer inputs give float32), broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('div', a, b, 'float', (_x, y, o, g) => [g.div(y), sumTo(g.mul(o).div(y), y.shape).neg()]);
/** aᵇ, broadcasting. The exponent's gradient uses log a (taken as 0 where a = 0). */
export const pow = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('pow', a, b, 'same', (x, y, o, g) => [
    g.mul(y).mul(x.pow(y.sub(1))),
    g.mul(o).mul(where(x.eq(0), 0, x.log())),
  ]);
/** Elementwise maximum; on ties the gradient is split evenly. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('maximum', a, b, 'same', (x, y, _o, g) => {
    const share = mask(x.gt(y)).add(mask(x.eq(y)).mul(0.5));
    return [g.mul(share), g.mul(share.neg().add(1))];
  });
/** Elementwise minimum; on ties the gradient is split evenly. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('minimum', a, b, 'same', (x, y, _o, g) => {
    const share = mask(x.lt(y)).add(mask(x.eq(y)).mul(0.5));
    return [g.mul(share), g.mul(share.neg().add(1))];
  });
/** a == b, as bool. */
export const eq = (a: TensorLike, b: TensorLike): Tensor => binaryOp('eq', a, b, 'bool');
/** a != b, as bool. */
export const ne = (a: TensorLike, b: TensorLike): Tensor => binaryOp('ne', a, b, 'bool');
/** a < b, as bool. */
export const lt = (a: TensorLike, b: TensorLike): Tensor => binaryOp('lt', a, b, 'bool');
/** a ≤ b, as bool. */
export const le = (a: TensorLike, b: TensorLike): Tensor => binaryOp('le', a, b, 'bool');
/** a > b, as bool. */
export const gt = (a: TensorLike, b: TensorLike): Tensor => binaryOp('gt', a, b, 'bool');
/** a ≥ b, as bool. */
export const ge = (a: TensorLike, b: TensorLike): Tensor => binaryOp('ge', a, b, 'bool');
/** Elementwise AND, as bool. */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalAnd', a, b, 'bool');
/** Elementwise OR, as bool. */
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalOr', a, b, 'bool');

/** condition ? a : b, all three broadcast together. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (!(condition instanceof Tensor)) throw new Error('Kiln: where: condition must be a Tensor');
  const cond = condition.dtype === 'bool' ? condition : condition.ne(0);
  const dtype = resultType(a, b);
  const x = operand(a, dtype);
  const y = operand(b, dtype);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  const out = uninitialized(shape, dtype);
  kernels().where(cond._data as Uint8Array, cond.shape, x._data, x.shape, y._data, y.shape, out._data, shape);
  return finish(out, 'where', [cond, x, y], {}, (g) => {
    const zero = scalarTensor(0, g.dtype);
    return [null, sumTo(where(cond, g, zero), x.shape), sumTo(where(cond, zero, g), y.shape)];
  });
}

/** Allocates an output buffer of `shape` and dtype (for ops that fill it themselves). */
export function allocateLike(shape: Shape, dtype: DType): Tensor {
  return empty(shape, dtype);
}
