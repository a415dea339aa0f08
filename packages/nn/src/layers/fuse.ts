/**
 * Inference-time fusion of convolution, batch norm and a clipping activation, as ONNX Runtime
 * and PyTorch's `fuse_modules` do: in eval mode a BatchNorm is an affine map per channel with
 * fixed statistics, so it folds into the preceding convolution's weights and bias,
 *
 *   s = γ / √(running_var + ε),   w' = w · s[c],   b' = (b − running_mean) · s + β,
 *
 * and a following ReLU/ReLU6 becomes a clamp the convolution kernel applies to its output
 * (conv2d's `outputClamp`). One output array per block instead of three is most of the gain:
 * fresh arrays and the passes over them are what a batch-1 forward spends much of its time on.
 */
import { makeResident, noGrad, tensor, type Tensor } from '@kiln/tensor';
import { Module, parameter } from '../module.js';
import { ReLU } from './activation.js';
import { ReLU6 } from './activation-extra.js';
import { BatchNorm1d, BatchNorm2d, BatchNorm3d } from './batchnorm.js';
import { Identity, Sequential } from './container.js';
import { Conv1d, Conv2d, Conv3d } from './conv.js';

type Conv = Conv1d | Conv2d | Conv3d;
type BatchNorm = BatchNorm1d | BatchNorm2d | BatchNorm3d;

function isConv(m: Module): m is Conv {
  return m instanceof Conv1d || m instanceof Conv2d || m instanceof Conv3d;
}

function isBatchNorm(m: Module): m is BatchNorm {
  return m instanceof BatchNorm1d || m instanceof BatchNorm2d || m instanceof BatchNorm3d;
}

/** Folds `bn`'s running statistics and affine parameters into `conv`'s weight and bias, in float64. */
function foldBatchNorm(conv: Conv, bn: BatchNorm, where: string): void {
  if (bn.numFeatures !== conv.outChannels) {
    throw new Error(`Kiln: fuseConvBn: ${where}: BatchNorm has ${bn.numFeatures} features but the convolution before it has ${conv.outChannels} output channels`);
  }
  if (!bn.running_mean || !bn.running_var) {
    throw new Error(`Kiln: fuseConvBn: ${where}: BatchNorm without running statistics (trackRunningStats: false) normalises with batch statistics and cannot be folded`);
  }
  const c = conv.outChannels;
  const mean = bn.running_mean.dataSync();
  const variance = bn.running_var.dataSync();
  const gamma = bn.weight?.dataSync() ?? null;
  const beta = bn.bias?.dataSync() ?? null;
  const w = conv.weight.dataSync();
  const b = conv.bias?.dataSync() ?? null;
  const per = w.length / c;
  const dtype = conv.weight.dtype as 'float32' | 'float64';
  const wf = dtype === 'float32' ? new Float32Array(w.length) : new Float64Array(w.length);
  const bf = dtype === 'float32' ? new Float32Array(c) : new Float64Array(c);
  for (let o = 0; o < c; o++) {
    const s = (gamma ? gamma[o]! : 1) / Math.sqrt(variance[o]! + bn.eps);
    for (let i = o * per; i < (o + 1) * per; i++) wf[i] = w[i]! * s;
    bf[o] = ((b ? b[o]! : 0) - mean[o]!) * s + (beta ? beta[o]! : 0);
  }
  const requiresGrad = conv.weight.requiresGrad;
  conv.weight = parameter(tensor(wf, { shape: [...conv.weight.shape], dtype }), requiresGrad);
  conv.bias = parameter(tensor(bf, { shape: [c], dtype }), requiresGrad);
}

/**
 * Fuses, in place, every convolution (Conv1d/2d/3d) followed by a BatchNorm inside a Sequential
 * anywhere in `model` — PyTorch's `fuse_modules` for conv–bn(–relu): the BatchNorm is folded into
 * the convolution's weights and bias and replaced by an Identity, and a ReLU or ReLU6 right after
 * it is folded into the convolution too (clamped by its kernel; replaced by an Identity). Outputs stay those of the unfused model in eval mode (to float
 * rounding, ~1e-6 relative); the fused model no longer has the BatchNorm's state-dict keys, and
 * training it does not update batch statistics. Call it on a model in eval mode, for inference.
 * Returns `model`; {@link countFusable} says beforehand how many pairs it will fold.
 */
export function fuseConvBn<M extends Module>(model: M): M {
  if (!(model instanceof Module)) throw new Error(`Kiln: fuseConvBn: model must be a Module, got ${String(model)}`);
  if (model.training) throw new Error('Kiln: fuseConvBn: the model is in training mode; fusion uses running statistics, call model.eval() first');
  const folded: Tensor[] = [];
  noGrad(() => {
    for (const [name, m] of model.namedModules()) {
      if (!(m instanceof Sequential)) continue;
      const slots = m as unknown as Record<string, Module>;
      const kids = m.children();
      for (let i = 0; i + 1 < kids.length; i++) {
        const conv = kids[i]!;
        const bn = kids[i + 1]!;
        if (!isConv(conv) || !isBatchNorm(bn)) continue;
        foldBatchNorm(conv, bn, `${name ? `${name}.` : ''}${i}`);
        folded.push(conv.weight, conv.bias!);
        slots[String(i + 1)] = new Identity();
        const act = kids[i + 2];
        const clamp = act instanceof ReLU6 ? [0, 6] as const : act instanceof ReLU ? [0, Infinity] as const : null;
        if (clamp) {
          conv._outputClamp = clamp;
          slots[String(i + 2)] = new Identity();
        }
      }
    }
  });
  makeResident(folded);
  return model;
}

/** The number of convolution–BatchNorm pairs {@link fuseConvBn} would fold in `model`. */
export function countFusable(model: Module): number {
  let n = 0;
  for (const m of model.modules()) {
    if (!(m instanceof Sequential)) continue;
    const kids = m.children();
    for (let i = 0; i + 1 < kids.length; i++) if (isConv(kids[i]!) && isBatchNorm(kids[i + 1]!)) n++;
  }
  return n;
}
