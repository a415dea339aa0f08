/** Elementwise math, activations and comparisons. */
import * as K from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import type { NodeContext, OpHandler } from '../context.js';

const unary = (f: (x: Tensor) => Tensor): OpHandler => (c) => f(c.input(0));
const binary = (f: (a: Tensor, b: Tensor) => Tensor): OpHandler => (c) => f(c.input(0), c.input(1));

/** Variadic Sum/Max/Min/Mean fold their inputs pairwise. */
const fold = (f: (a: Tensor, b: Tensor) => Tensor): OpHandler => (c) => c.inputs.filter((t): t is Tensor => !!t).reduce((a, b) => f(a, b));

export const mathOps: Record<string, OpHandler> = {
  Add: binary(K.add), Sub: binary(K.sub), Mul: binary(K.mul), Pow: binary(K.pow),
  Div: (c) => {
    const a = c.input(0), b = c.input(1);
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
  Softmax: (c) => K.softmax(c.input(0), c.int('axis', -1)),
  LogSoftmax: (c) => K.logSoftmax(c.input(0), c.int('axis', -1)),
  Clip: (c) => {
    const lo = c.optionalInput(1), hi = c.optionalInput(2);
    return K.clamp(c.input(0), lo ? lo.item() : undefined, hi ? hi.item() : undefined);
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
  Dropout: (c) => c.input(0),
};
