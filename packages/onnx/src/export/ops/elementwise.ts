/** Elementwise ops: unary math, activations, binary arithmetic, comparisons, where, cast. */
import type { TraceRecord } from '@kiln/tensor';
import type { GraphBuilder } from '../builder.js';
import { onnxDataType } from '../../tensor-proto.js';
import type { OpExporter } from './index.js';

const simple = (opType: string): OpExporter => (b, r) => {
  b.node(opType, r.inputs.map((t) => b.name(t)), [b.output(r.outputs[0]!, opType.toLowerCase())]);
};

const scalarFor = (b: GraphBuilder, r: TraceRecord, v: number) =>
  b.floatScalar(v, r.inputs[0]!.dtype === 'float64' ? 'float64' : 'float32');

const num = (r: TraceRecord, key: string) => Number(r.attrs[key]);

export const elementwiseOps: Record<string, OpExporter> = {
  neg: simple('Neg'), exp: simple('Exp'), log: simple('Log'), sqrt: simple('Sqrt'), abs: simple('Abs'),
  sign: simple('Sign'), sin: simple('Sin'), cos: simple('Cos'), tanh: simple('Tanh'), sigmoid: simple('Sigmoid'),
  relu: simple('Relu'), erf: simple('Erf'), floor: simple('Floor'), ceil: simple('Ceil'), round: simple('Round'),
  reciprocal: simple('Reciprocal'), logicalNot: simple('Not'), identity: simple('Identity'),
  add: simple('Add'), sub: simple('Sub'), mul: simple('Mul'), div: simple('Div'), pow: simple('Pow'),
  maximum: simple('Max'), minimum: simple('Min'), eq: simple('Equal'), lt: simple('Less'), gt: simple('Greater'),
  le: simple('LessOrEqual'), ge: simple('GreaterOrEqual'), where: simple('Where'), matmul: simple('MatMul'),
  logicalAnd: simple('And'), logicalOr: simple('Or'),
  ne: (b, r) => {
    const e = b.tmp('Equal', r.inputs.map((t) => b.name(t)));
    b.node('Not', [e], [b.output(r.outputs[0]!, 'ne')]);
  },
  square: (b, r) => { const x = b.name(r.inputs[0]!); b.node('Mul', [x, x], [b.output(r.outputs[0]!, 'square')]); },
  rsqrt: (b, r) => { b.node('Reciprocal', [b.tmp('Sqrt', [b.name(r.inputs[0]!)])], [b.output(r.outputs[0]!, 'rsqrt')]); },
  log1p: (b, r) => { b.node('Log', [b.tmp('Add', [b.name(r.inputs[0]!), scalarFor(b, r, 1)])], [b.output(r.outputs[0]!, 'log1p')]); },
  expm1: (b, r) => { b.node('Sub', [b.tmp('Exp', [b.name(r.inputs[0]!)]), scalarFor(b, r, 1)], [b.output(r.outputs[0]!, 'expm1')]); },
  leakyRelu: (b, r) => { b.node('LeakyRelu', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'leaky_relu')], { alpha: { float: num(r, 'negativeSlope') } }); },
  elu: (b, r) => { b.node('Elu', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'elu')], { alpha: { float: num(r, 'alpha') } }); },
  softplus: (b, r) => {
    // ONNX Softplus has no beta/threshold; log(1+e^x) equals x above PyTorch's threshold to float precision.
    const beta = num(r, 'beta');
    const x = b.name(r.inputs[0]!);
    if (beta === 1) { b.node('Softplus', [x], [b.output(r.outputs[0]!, 'softplus')]); return; }
    const s = b.tmp('Softplus', [b.tmp('Mul', [x, scalarFor(b, r, beta)])]);
    b.node('Div', [s, scalarFor(b, r, beta)], [b.output(r.outputs[0]!, 'softplus')]);
  },
  clamp: (b, r) => {
    const lo = r.attrs.min, hi = r.attrs.max;
    const bound = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? scalarFor(b, r, v) : '');
    b.node('Clip', [b.name(r.inputs[0]!), bound(lo), bound(hi)], [b.output(r.outputs[0]!, 'clip')]);
  },
  cast: (b, r) => {
    b.node('Cast', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'cast')], { to: onnxDataType(r.outputs[0]!.dtype) });
  },
  softmax: (b, r) => { b.node('Softmax', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'softmax')], { axis: num(r, 'dim') }); },
  logSoftmax: (b, r) => { b.node('LogSoftmax', [b.name(r.inputs[0]!)], [b.output(r.outputs[0]!, 'log_softmax')], { axis: num(r, 'dim') }); },
  // Inference graphs drop dropout: the output is the input.
  dropout: (b, r) => { b.alias(r.outputs[0]!, r.inputs[0]!); },
};
