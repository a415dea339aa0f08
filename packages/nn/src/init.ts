/**
 * Weight initialisers, in place under noGrad (PyTorch's `nn.init`). Random ones draw from the
 * global generator (`manualSeed`) or an explicit `generator`. Inside `withoutInit` each of them
 * leaves its tensor untouched and draws nothing (see without-init.ts).
 */
import { checkOptions, defaultGenerator, Generator, noGrad, Tensor } from '@kiln/tensor';
import { deferInit } from './without-init.js';

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fanIn' | 'fanOut';

/** PyTorch's recommended gain for a nonlinearity (leaky_relu takes the negative slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': {
      const s = param ?? 0.01;
      if (!(typeof s === 'number' && Number.isFinite(s))) throw new Error(`Kiln: calculateGain: the leaky_relu slope must be a finite number, got ${String(s)}`);
      return Math.sqrt(2 / (1 + s * s));
    }
    case 'selu': return 3 / 4;
    default: throw new Error(`Kiln: calculateGain: unknown nonlinearity '${String(nonlinearity)}'`);
  }
}

/** fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (needs ≥ 2 dims). */
export function calculateFans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new Error(`Kiln: init: fan in/out need a tensor with at least 2 dims, got shape [${t.shape.join(',')}]`);
  const rf = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1]! * rf, fanOut: t.shape[0]! * rf };
}

function fillWith(t: Tensor, f: () => number): Tensor {
  if (deferInit(t)) return t;
  return noGrad(() => {
    const d = t.dataSync();
    for (let i = 0; i < d.length; i++) d[i] = f();
    t.markModified(); // stale graphs notice
    return t;
  });
}

/**
 * Fills with zeros. Note: zero weights in hidden layers do NOT break symmetry — every unit of
 * a layer then computes the same function and receives the same gradient, so they stay equal;
 * use it for biases or output layers only.
 */
export const zeros_ = (t: Tensor): Tensor => fillWith(t, () => 0);
export const ones_ = (t: Tensor): Tensor => fillWith(t, () => 1);
export const constant_ = (t: Tensor, value: number): Tensor => fillWith(t, () => value);

/** U(low, high). */
export function uniform_(t: Tensor, low = 0, high = 1, generator: Generator = defaultGenerator): Tensor {
  if (!(high >= low && Number.isFinite(low) && Number.isFinite(high))) throw new Error(`Kiln: uniform_: need finite low <= high, got ${low}, ${high}`);
  return fillWith(t, () => low + (high - low) * generator.random());
}

/** N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1, generator: Generator = defaultGenerator): Tensor {
  if (!(std >= 0 && std < Infinity)) throw new Error(`Kiln: normal_: std must be a finite number >= 0, got ${std}`);
  if (!Number.isFinite(mean)) throw new Error(`Kiln: normal_: mean must be a finite number, got ${mean}`);
  return fillWith(t, () => mean + std * generator.normal());
}

/** Glorot/Xavier uniform: U(±gain·√(6/(fan_in+fan_out))). */
export function xavierUniform_(t: Tensor, gain = 1, generator?: Generator): Tensor {
  const { fanIn, fanOut } = calculateFans(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, generator);
}

/** Glorot/Xavier normal: N(0, gain²·2/(fan_in+fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1, generator?: Generator): Tensor {
  const { fanIn, fanOut } = calculateFans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), generator);
}

export interface KaimingOptions {
  /** Negative slope for leaky_relu (PyTorch's `a`, default 0). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

const NONLINEARITIES: readonly Nonlinearity[] = ['linear', 'conv1d', 'conv2d', 'conv3d', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'];
/** PyTorch's mode 'fan_in' would otherwise be taken for 'fanOut' (anything but 'fanIn' is). */
const KAIMING_KEYS = {
  a: 'number', mode: ['fanIn', 'fanOut'], nonlinearity: NONLINEARITIES,
  generator: (v: unknown) => (v instanceof Generator ? null : 'a Generator'),
} as const;

function kaimingStd(fn: string, t: Tensor, o: KaimingOptions): number {
  checkOptions(fn, o, KAIMING_KEYS);
  const fans = calculateFans(t);
  const fan = (o.mode ?? 'fanIn') === 'fanIn' ? fans.fanIn : fans.fanOut;
  return calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan);
}

/** He/Kaiming uniform: U(±gain·√(3/fan)). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform_', t, options);
  return uniform_(t, -bound, bound, options.generator);
}

/** He/Kaiming normal: N(0, gain²/fan). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd('kaimingNormal_', t, options), options.generator);
}

/** (Semi-)orthogonal matrix from the QR (Gram–Schmidt) of a Gaussian matrix, times gain. */
export function orthogonal_(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  if (t.ndim < 2) throw new Error(`Kiln: orthogonal_: needs at least 2 dims, got shape [${t.shape.join(',')}]`);
  if (!Number.isFinite(gain)) throw new Error(`Kiln: orthogonal_: gain must be a finite number, got ${gain}`);
  if (deferInit(t)) return t;
  const rows = t.shape[0]!;
  const cols = t.numel() / rows;
  const transpose = rows < cols;
  const n = transpose ? cols : rows; // tall matrix n × m with orthonormal columns
  const m = transpose ? rows : cols;
  const a = new Float64Array(n * m).map(() => generator.normal());
  // modified Gram–Schmidt over the m columns; sign fixed like QR with positive diag(R)
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += a[i * m + j]! * a[i * m + k]!;
      for (let i = 0; i < n; i++) a[i * m + j] = a[i * m + j]! - dot * a[i * m + k]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += a[i * m + j]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < n; i++) a[i * m + j] = a[i * m + j]! / norm;
  }
  return noGrad(() => {
    const d = t.dataSync();
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) d[r * cols + c] = gain * (transpose ? a[c * m + r]! : a[r * m + c]!);
    t.markModified();
    return t;
  });
}
