/** Elementwise math, activations and comparisons. */
import * as K from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import type { NodeContext, OpHandler } from '../context.js';

const unary = (f: (x: Tensor) => Tensor): OpHandler => (c) => f(c.input(0));
/**
 * Binary ops; opsets < 7 broadcast only with broadcast=1, B aligned to A from `axis` (default: the
 * trailing dims), which NumPy broadcasting reproduces once B gets trailing 1s.
 */
const binary = (f: (a: Tensor, b: Tensor) => Tensor): OpHandler => (c) => f(c.input(0), legacyBroadcast(c, c.input(0), c.input(1)));

function legacyBroadcast(c: NodeContext, a: Tensor, b: Tensor): Tensor {
  if (c.opset >= 7 || !c.int('broadcast', 0) || !c.has('axis')) return b;
  const axis = c.int('axis') < 0 ? c.int('axis') + a.ndim : c.int('axis');
  const trailing = a.ndim - axis - b.ndim;
  if (axis < 0 || trailing < 0) throw c.error(`legacy broadcast of [${b.shape.join(', ')}] onto [${a.shape.join(', ')}] at axis ${c.int('axis')} does not fit`);
  return K.reshape(b, [...b.shape, ...new Array<number>(trailing).fill(1)]);
}

/** Softmax-like ops before opset 13 flatten the input to 2-D at `axis` (default 1) and normalise each row. */
const softmaxLike = (f: (x: Tensor, dim: number) => Tensor): OpHandler => (c) => {
  const x = c.input(0);
  if (c.opset >= 13) return f(x, c.int('axis', -1));
  const axis = c.int('axis', 1);
  const a = axis < 0 ? axis + x.ndim : axis;
  if (a < 0 || a > x.ndim) throw c.error(`axis ${axis} is out of range for rank ${x.ndim}`);
  if (a === x.ndim - 1) return f(x, -1);
  const rows = x.shape.slice(0, a).reduce((p, q) => p * q, 1);
  return K.reshape(f(K.reshape(x, [rows, -1]), 1), x.shape);
};

const F16 = (x: Tensor): Tensor => new Tensor(K.float16ToFloat32(K.float32ToFloat16(x.to('float32').dataSync() as Float32Array)), x.shape, 'float32');
const BF16 = (x: Tensor): Tensor => new Tensor(K.bfloat16ToFloat32(K.float32ToBfloat16(x.to('float32').dataSync() as Float32Array)), x.shape, 'float32');
/** Rounds float32 values to what a float16 / bfloat16 can hold (Kiln stores 16-bit floats as float32), with a straight-through gradient. */
export function roundTo16(x: Tensor, kind: 'float16' | 'bfloat16'): Tensor {
  const r = kind === 'float16' ? F16(x) : BF16(x);
  return x.dtype === 'float32' && x.requiresGrad ? x.add(r.sub(x).detach()) : r;
}

/** Variadic Sum/Max/Min/Mean fold their inputs pairwise. */
const fold = (f: (a: Tensor, b: Tensor) => Tensor): OpHandler => (c) => c.inputs.filter((t): t is Tensor => !!t).reduce((a, b) => f(a, b));

export const mathOps: Record<string, OpHandler> = {
  Add: binary(K.add), Sub: binary(K.sub), Mul: binary(K.mul),
  Pow: (c) => {
    const a = c.input(0), b = legacyBroadcast(c, a, c.input(1));
    // The result has the base's type: an integer base with a float exponent gives integers.
    if (a.dtype === 'int32') return K.pow(a.to('float64'), b.to('float64')).to('int32');
    return K.pow(a, b.dtype === a.dtype ? b : b.to(a.dtype));
  },
  Div: (c) => {
    const a = c.input(0), b = legacyBroadcast(c, a, c.input(1));
    // Integer Div truncates in ONNX.
    if (a.dtype === 'int32' && b.dtype === 'int32') return K.div(a, b).to('float64').sign().mul(K.div(a, b).abs().floor()).to('int32');
    return K.div(a, b);
  },
  Neg: unary(K.neg), Abs: unary(K.abs), Sqrt: unary(K.sqrt), Exp: unary(K.exp), Log: unary(K.log), Erf: unary(K.erf),
  Sin: unary(K.sin), Cos: unary(K.cos), Sign: unary(K.sign), Floor: unary(K.floor), Ceil: unary(K.ceil), Round: unary(K.round),
  Reciprocal: unary(K.reciprocal), Not: unary(K.logicalNot), Identity: (c) => c.input(0),
  Relu: unary(K.relu), Sigmoid: unary(K.sigmoid), Tanh: unary(K.tanh),
  LeakyRelu: (c) => K.leakyRelu(c.input(0), c.float('alpha', 0.01)),
  Elu: (c) => K.elu(c.input(0), c.float('alpha', 1)),
  Softplus: (c) => K.softplus(c.input(0)),
  Gelu: (c) => K.gelu(c.input(0), c.string('approximate', 'none') === 'tanh' ? 'tanh' : 'none'),
  HardSigmoid: (c) => K.clamp(c.input(0).mul(c.float('alpha', 0.2)).add(c.float('beta', 0.5)), 0, 1),
  Softmax: softmaxLike(K.softmax),
  LogSoftmax: softmaxLike(K.logSoftmax),
  Clip: (c) => {
    const x = c.input(0);
    let lo: number | undefined, hi: number | undefined;
    if (c.opset < 11) {
      // Opsets 1–10: bounds are attributes.
      if (c.has('min')) lo = c.float('min', -Infinity);
      if (c.has('max')) hi = c.float('max', Infinity);
    } else {
      const l = c.optionalInput(1), h = c.optionalInput(2);
      lo = l ? l.item() : undefined;
      hi = h ? h.item() : undefined;
    }
    if (lo === undefined && hi === undefined) return x; // neither bound: identity
    if (lo !== undefined && hi !== undefined && lo > hi) return K.fullLike(x, hi); // the spec: everything becomes max
    return K.clamp(x, lo, hi);
  },
  Max: fold(K.maximum), Min: fold(K.minimum), Sum: fold(K.add),
  Equal: binary(K.eq), Less: binary(K.lt), Greater: binary(K.gt), LessOrEqual: binary(K.le), GreaterOrEqual: binary(K.ge),
  And: binary(K.logicalAnd), Or: binary(K.logicalOr),
  Where: (c) => K.where(c.input(0), c.input(1), c.input(2)),
  MatMul: binary(K.matmul),
  Gemm: (c: NodeContext) => {
    let a = c.input(0), b = c.input(1);
    const plain = !c.int('transA', 0) && c.int('transB', 0) && c.float('alpha', 1) === 1 && c.float('beta', 1) === 1;
    const c1 = c.optionalInput(2);
    // The dense layer's form (what Kiln exports for Linear): the same fused op, so a round trip is exact.
    if (plain && (!c1 || (c1.ndim === 1 && c1.shape[0] === b.shape[0]))) return K.linear(a, b, c1 ?? null);
    if (c.int('transA', 0)) a = a.t();
    if (c.int('transB', 0)) b = b.t();
    let y = a.matmul(b);
    const alpha = c.float('alpha', 1), beta = c.float('beta', 1);
    if (alpha !== 1) y = y.mul(alpha);
    const bias = c.optionalInput(2);
    if (bias) y = y.add(beta === 1 ? bias : bias.mul(beta));
    return y;
  },
  Dropout: (c) => {
    const x = c.input(0);
    // Opset 12+: ratio and training_mode are inputs; training_mode=1 drops with Kiln's generator.
    const training = c.opset >= 12 && c.optionalInput(2) ? c.input(2).item() !== 0 : false;
    const ratio = c.opset >= 12 ? (c.optionalInput(1) ? c.input(1).item() : 0.5) : c.float('ratio', 0.5);
    if (!training || ratio === 0) return [x, K.onesLike(x, { dtype: 'bool' })];
    if (!(ratio >= 0 && ratio < 1)) throw c.error(`ratio ${ratio} must be in [0, 1)`);
    const keep = K.dropoutMask(x.shape, ratio);
    return [x.mul(keep), keep.gt(0)];
  },
};
