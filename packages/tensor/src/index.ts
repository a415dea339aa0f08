/**
 * @kiln/tensor — n-d tensors with NumPy broadcasting, reverse-mode autograd, gradient
 * checking, seeded randomness and pluggable compute backends.
 */
import './backends/reference/index.js';
import './backends/wasm/index.js';

export { Tensor, type TensorLike } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export { promoteTypes, isFloatingDType } from './dtype.js';
export { type Shape, broadcastShapes, sizeOf } from './shape.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export { noGrad, enableGrad, isGradEnabled, type BackwardOptions } from './autograd.js';
export {
  type Backend, type Kernels, type UnaryOp, type BinaryOp, type ReduceOp, type GemmArgs, type WindowGeometry,
  type RnnNonlinearity, type RnnCellArgs, type RnnCellBackwardArgs, type LstmCellArgs, type LstmCellBackwardArgs,
  type GruCellArgs, type GruCellBackwardArgs, type LstmSequenceArgs, type LstmSequenceBackwardArgs, type CtcArgs,
  registerBackend, setBackend, getBackend, listBackends, withBackend, kernels, setNumThreads, getNumThreads, threadsReady,
} from './backend.js';
export { type StateArena, type OptimizerStepArgs } from './backend.js';
export { type ConvClamp } from './backend.js';
export { referenceBackend, referenceKernels } from './backends/reference/index.js';
export { wasmInfo, type WasmInfo } from './backends/wasm/index.js';
export { traceOps, isTracing, emit, composite, type Tracer, type TraceRecord, type Attrs } from './trace.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.js';
export {
  float16BitsToNumber, numberToFloat16Bits, bfloat16BitsToNumber, numberToBfloat16Bits, float16ToFloat32, bfloat16ToFloat32,
  float32ToFloat16, float32ToBfloat16,
} from './float16.js';
export { checkOptions, isOptionsObject, describeValue, type OptionKind } from './options.js';
export * from './ops/creation.js';
export {
  add, sub, mul, div, pow, neg, maximum, minimum, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalNot, where,
  exp, log, log1p, expm1, sqrt, rsqrt, abs, sign, sin, cos, tanh, sigmoid, relu, erf, floor, ceil, round,
  reciprocal, square, leakyRelu, elu, softplus, clamp, cast, isnan, isfinite,
} from './ops/elementwise.js';
export { sum, mean, prod, max, min, variance as var, variance, std, logsumexp, argmax, argmin, type VarOptions } from './ops/reduce.js';
export { softmax, logSoftmax, gelu } from './ops/activation.js';
export { relu6, hardsigmoid, hardswish, silu } from './ops/activation-extra.js';
export { batchNorm, groupNorm, layerNorm, localResponseNorm, type BatchNormOpOptions } from './ops/normalization.js';
export { matmul, linear } from './ops/linalg.js';
export {
  reshape, reshape as view, flatten, unflatten, squeeze, unsqueeze, permute, transpose, expand, slice, narrow, flip,
  cat, stack, split, chunk, repeat, tril, triu, pad, type PadMode,
} from './ops/movement.js';
export { gather, scatterAdd, indexSelect, oneHot } from './ops/indexing.js';
export {
  conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d, type ConvOptions, type ConvTransposeOptions, type ConvPadding,
} from './ops/conv.js';
export {
  maxPool1d, maxPool2d, maxPool3d, avgPool1d, avgPool2d, avgPool3d, adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveAvgPool3d,
  adaptiveMaxPool1d, adaptiveMaxPool2d, adaptiveMaxPool3d,
  type MaxPoolOptions, type AvgPoolOptions,
} from './ops/pool.js';
export { interpolate, upsample, type InterpolateOptions, type InterpolateMode } from './ops/interpolate.js';
export {
  rnnRecurrence, lstmRecurrence, gruRecurrence, type RnnRecurrenceArgs, type LstmRecurrenceArgs, type GruRecurrenceArgs,
} from './ops/recurrent.js';
export { ctcNll, type CtcNllArgs } from './ops/ctc.js';
export { classNll, type ClassNllOptions } from './ops/class-nll.js';
export { makeResident, type MakeResidentOptions } from './resident.js';
export { stepScope, keep } from './activations.js';
