import {
  conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d, isGradEnabled, isTracing, zeros, type ConvPadding, type Tensor,
} from '@kiln/tensor';
import { calculateFans, kaimingUniform_, uniform_ } from '../init.js';
import { Module, parameter } from '../module.js';
import { checkInput } from './check.js';
import { checkOptions, FLOAT_DTYPE } from './options.js';

type Spatial = number | readonly number[];

export interface ConvLayerOptions {
  stride?: Spatial;
  padding?: ConvPadding;
  dilation?: Spatial;
  groups?: number;
  bias?: boolean;
  dtype?: 'float32' | 'float64';
}

const CONV_KEYS = {
  stride: 'spatial', dilation: 'spatial', groups: 'int', bias: 'boolean', dtype: FLOAT_DTYPE,
  padding: (v: unknown) => (v === 'same' || v === 'valid' || Number.isInteger(v) || (Array.isArray(v) && v.every(Number.isInteger)) ? null : "an integer, an array of them, 'same' or 'valid'"),
} as const;
const CONV_TRANSPOSE_KEYS = { ...CONV_KEYS, padding: 'spatial', outputPadding: 'spatial' } as const;

function expand(name: string, v: Spatial, n: number, what: string): number[] {
  const a = typeof v === 'number' ? Array<number>(n).fill(v) : [...v];
  if (a.length !== n || a.some((x) => !(Number.isInteger(x) && x > 0))) {
    throw new Error(`Kiln: ${name}: ${what} must be a positive integer or ${n} of them, got ${JSON.stringify(v)}`);
  }
  return a;
}

/** PyTorch's default for conv weights and biases: kaiming_uniform(a=√5), bias U(±1/√fan_in). */
function resetConv(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = calculateFans(weight);
    const b = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -b, b);
  }
}

abstract class ConvNd extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly kernelSize: number[];
  readonly options: Required<Pick<ConvLayerOptions, 'stride' | 'padding' | 'dilation' | 'groups'>>;

  protected constructor(
    private readonly layerName: string,
    readonly nd: number,
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Spatial,
    options: ConvLayerOptions,
    transposed: boolean,
  ) {
    super();
    checkOptions(layerName, options, transposed ? CONV_TRANSPOSE_KEYS : CONV_KEYS);
    const groups = options.groups ?? 1;
    if (!(Number.isInteger(inChannels) && inChannels > 0 && Number.isInteger(outChannels) && outChannels > 0)) {
      throw new Error(`Kiln: ${layerName}: channels must be positive integers, got in=${inChannels}, out=${outChannels}`);
    }
    if (!(Number.isInteger(groups) && groups > 0) || inChannels % groups || outChannels % groups) {
      throw new Error(`Kiln: ${layerName}: inChannels ${inChannels} and outChannels ${outChannels} must both be divisible by groups ${groups}`);
    }
    this.kernelSize = expand(layerName, kernelSize, nd, 'kernelSize');
    this.options = { stride: options.stride ?? 1, padding: options.padding ?? 0, dilation: options.dilation ?? 1, groups };
    const dtype = options.dtype ?? 'float32';
    const wshape = transposed ? [inChannels, outChannels / groups, ...this.kernelSize] : [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = parameter(zeros(wshape, { dtype }));
    this.bias = options.bias === false ? null : parameter(zeros([outChannels], { dtype }));
    resetConv(this.weight, this.bias);
  }

  /**
   * @internal A ReLU/ReLU6 folded into this convolution by `fuseConvBn` ([min, max]), or null.
   * Inference runs it inside the convolution kernel; training and tracing clamp afterwards.
   */
  _outputClamp: readonly [number, number] | null = null;

  /** The options for this call: the folded clamp goes to the kernel when nothing is recorded. */
  protected callOptions(x: Tensor): ConvLayerOptions & { outputClamp?: readonly [number, number] } {
    const c = this._outputClamp;
    if (!c || isTracing() || (isGradEnabled() && (x.requiresGrad || this.weight.requiresGrad || !!this.bias?.requiresGrad))) return this.options;
    return { ...this.options, outputClamp: c };
  }

  /** The clamp the kernel did not do (training, tracing), out of place. */
  protected clampAfter(y: Tensor, options: { outputClamp?: unknown }): Tensor {
    const c = this._outputClamp;
    return c && !options.outputClamp ? y.clamp(c[0], c[1]) : y;
  }

  protected check(x: Tensor): void {
    const n = this.nd;
    checkInput(this.layerName, x, (x.ndim === n + 2 || x.ndim === n + 1) && x.shape[x.ndim - n - 1] === this.inChannels,
      `[N, ${this.inChannels}, ...${n} spatial dims] (or unbatched [${this.inChannels}, ...])`);
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize.join(',')}], stride=${JSON.stringify(this.options.stride)}, padding=${JSON.stringify(this.options.padding)}`;
  }
}

/** 1-D convolution over [N, C, L]; weight [out, in/groups, k]. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, options: ConvLayerOptions = {}) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, options, false);
  }
  override forward(x: Tensor): Tensor {
    this.check(x);
    const options = this.callOptions(x);
    return this.clampAfter(conv1d(x, this.weight, this.bias, options), options);
  }
}

/** 2-D convolution over [N, C, H, W]; weight [out, in/groups, kh, kw]. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, options: ConvLayerOptions = {}) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, options, false);
  }
  override forward(x: Tensor): Tensor {
    this.check(x);
    const options = this.callOptions(x);
    return this.clampAfter(conv2d(x, this.weight, this.bias, options), options);
  }
}

/** 3-D convolution over [N, C, D, H, W]. */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, options: ConvLayerOptions = {}) {
    super('Conv3d', 3, inChannels, outChannels, kernelSize, options, false);
  }
  override forward(x: Tensor): Tensor {
    this.check(x);
    const options = this.callOptions(x);
    return this.clampAfter(conv3d(x, this.weight, this.bias, options), options);
  }
}

export interface ConvTransposeLayerOptions extends Omit<ConvLayerOptions, 'padding'> {
  padding?: Spatial;
  outputPadding?: Spatial;
}

/** 2-D transposed convolution; weight [in, out/groups, kh, kw] (PyTorch's layout). */
export class ConvTranspose2d extends ConvNd {
  readonly outputPadding: Spatial;
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, options: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, options, true);
    this.outputPadding = options.outputPadding ?? 0;
  }
  override forward(x: Tensor): Tensor {
    this.check(x);
    const o = this.options;
    return convTranspose2d(x, this.weight, this.bias, {
      stride: o.stride, padding: o.padding as Spatial, dilation: o.dilation, groups: o.groups, outputPadding: this.outputPadding,
    });
  }
}

/** 1-D transposed convolution over [N, C, L]; weight [in, out/groups, k]. */
export class ConvTranspose1d extends ConvNd {
  readonly outputPadding: Spatial;
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, options: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose1d', 1, inChannels, outChannels, kernelSize, options, true);
    this.outputPadding = options.outputPadding ?? 0;
  }
  override forward(x: Tensor): Tensor {
    this.check(x);
    const o = this.options;
    return convTranspose1d(x, this.weight, this.bias, {
      stride: o.stride, padding: o.padding as Spatial, dilation: o.dilation, groups: o.groups, outputPadding: this.outputPadding,
    });
  }
}

/** 3-D transposed convolution over [N, C, D, H, W]; weight [in, out/groups, kd, kh, kw]. */
export class ConvTranspose3d extends ConvNd {
  readonly outputPadding: Spatial;
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, options: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose3d', 3, inChannels, outChannels, kernelSize, options, true);
    this.outputPadding = options.outputPadding ?? 0;
  }
  override forward(x: Tensor): Tensor {
    this.check(x);
    const o = this.options;
    return convTranspose3d(x, this.weight, this.bias, {
      stride: o.stride, padding: o.padding as Spatial, dilation: o.dilation, groups: o.groups, outputPadding: this.outputPadding,
    });
  }
}
