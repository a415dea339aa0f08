/**
 * 1-D and 3-D max/average pooling, adaptive max pooling (1-D to 3-D) and adaptive average
 * pooling (1-D, 3-D; 2-D is in pool.ts), PyTorch's layers over the
 * tensor ops: stride defaults to the kernel size, `ceilMode` rounds the output size up, average
 * pooling counts the padding in the divisor unless `countIncludePad` is false.
 */
import {
  adaptiveAvgPool1d, adaptiveAvgPool3d, adaptiveMaxPool1d, adaptiveMaxPool2d, adaptiveMaxPool3d, avgPool1d, avgPool3d, maxPool1d, maxPool3d,
  type Tensor,
} from '@kiln/tensor';
import { Module } from '../module.js';
import { checkInput } from './check.js';
import type { AvgPool2dOptions, MaxPool2dOptions } from './pool.js';
import { checkOptions } from './options.js';

type Spatial = number | readonly number[];

const MAX_KEYS = { stride: 'spatial', padding: 'spatial', dilation: 'spatial', ceilMode: 'boolean' } as const;
const AVG_KEYS = { stride: 'spatial', padding: 'spatial', ceilMode: 'boolean', countIncludePad: 'boolean' } as const;

function checkRank(layer: string, x: Tensor, spatial: number): void {
  const dims = spatial === 1 ? '[N, C, L] (or [C, L])' : '[N, C, D, H, W] (or [C, D, H, W])';
  checkInput(layer, x, x.ndim === spatial + 2 || x.ndim === spatial + 1, dims);
}

function checkKernel(layer: string, k: unknown): void {
  const pos = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  const ok = pos(k) || (Array.isArray(k) && k.length > 0 && k.every(pos));
  if (!ok) throw new Error(`Kiln: ${layer}: kernelSize must be a positive integer or an array of them, got ${JSON.stringify(k)}`);
}

/** Shared by the 1-D/3-D max and average pools: option checks, rank check, repr. */
abstract class PoolNd<O extends object> extends Module {
  protected constructor(
    private readonly _layer: string,
    private readonly _spatial: number,
    readonly kernelSize: Spatial,
    readonly options: O,
    keys: typeof MAX_KEYS | typeof AVG_KEYS,
  ) {
    super();
    checkKernel(_layer, kernelSize);
    checkOptions(_layer, options, keys);
  }
  protected abstract pool(x: Tensor): Tensor;
  override forward(x: Tensor): Tensor {
    checkRank(this._layer, x, this._spatial);
    return this.pool(x);
  }
  override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}, ${JSON.stringify(this.options)}`;
  }
}

/** Max pooling over [N, C, L]. */
export class MaxPool1d extends PoolNd<MaxPool2dOptions> {
  constructor(kernelSize: Spatial, options: MaxPool2dOptions = {}) { super('MaxPool1d', 1, kernelSize, options, MAX_KEYS); }
  protected pool(x: Tensor): Tensor { return maxPool1d(x, this.kernelSize, { ...this.options, returnIndices: false }); }
}

/** Max pooling over [N, C, D, H, W]. */
export class MaxPool3d extends PoolNd<MaxPool2dOptions> {
  constructor(kernelSize: Spatial, options: MaxPool2dOptions = {}) { super('MaxPool3d', 3, kernelSize, options, MAX_KEYS); }
  protected pool(x: Tensor): Tensor { return maxPool3d(x, this.kernelSize, { ...this.options, returnIndices: false }); }
}

/** Average pooling over [N, C, L]. */
export class AvgPool1d extends PoolNd<AvgPool2dOptions> {
  constructor(kernelSize: Spatial, options: AvgPool2dOptions = {}) { super('AvgPool1d', 1, kernelSize, options, AVG_KEYS); }
  protected pool(x: Tensor): Tensor { return avgPool1d(x, this.kernelSize, this.options); }
}

/** Average pooling over [N, C, D, H, W]. */
export class AvgPool3d extends PoolNd<AvgPool2dOptions> {
  constructor(kernelSize: Spatial, options: AvgPool2dOptions = {}) { super('AvgPool3d', 3, kernelSize, options, AVG_KEYS); }
  protected pool(x: Tensor): Tensor { return avgPool3d(x, this.kernelSize, this.options); }
}

type OutputSize = number | ReadonlyArray<number | null>;

/** Shared by the adaptive pools: outputSize check (null keeps that input dim), rank check, repr. */
abstract class AdaptivePoolNd extends Module {
  protected constructor(private readonly _layer: string, private readonly _spatial: number, readonly outputSize: OutputSize) {
    super();
    const ok = (v: unknown) => v === null || (typeof v === 'number' && Number.isInteger(v) && v > 0);
    const n = _spatial;
    if (!(typeof outputSize === 'number' ? ok(outputSize) : Array.isArray(outputSize) && outputSize.length === n && outputSize.every(ok))) {
      throw new Error(`Kiln: ${_layer}: outputSize must be a positive integer or ${n} of them (null keeps the input size), got ${JSON.stringify(outputSize)}`);
    }
  }
  protected abstract pool(x: Tensor): Tensor;
  override forward(x: Tensor): Tensor {
    const dims = ['[N, C, L] (or [C, L])', '[N, C, H, W] (or [C, H, W])', '[N, C, D, H, W] (or [C, D, H, W])'][this._spatial - 1]!;
    checkInput(this._layer, x, x.ndim === this._spatial + 2 || x.ndim === this._spatial + 1, dims);
    return this.pool(x);
  }
  override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}

/** Max over PyTorch's adaptive windows (floor(i·in/out) … ceil((i+1)·in/out)) to a fixed size. */
export class AdaptiveMaxPool2d extends AdaptivePoolNd {
  constructor(outputSize: OutputSize) { super('AdaptiveMaxPool2d', 2, outputSize); }
  protected pool(x: Tensor): Tensor { return adaptiveMaxPool2d(x, this.outputSize); }
}

/** Adaptive max pooling over [N, C, L]. */
export class AdaptiveMaxPool1d extends AdaptivePoolNd {
  constructor(outputSize: OutputSize) { super('AdaptiveMaxPool1d', 1, outputSize); }
  protected pool(x: Tensor): Tensor { return adaptiveMaxPool1d(x, this.outputSize); }
}

/** Adaptive max pooling over [N, C, D, H, W]. */
export class AdaptiveMaxPool3d extends AdaptivePoolNd {
  constructor(outputSize: OutputSize) { super('AdaptiveMaxPool3d', 3, outputSize); }
  protected pool(x: Tensor): Tensor { return adaptiveMaxPool3d(x, this.outputSize); }
}

/** Adaptive average pooling over [N, C, L] (1-D CNN heads). */
export class AdaptiveAvgPool1d extends AdaptivePoolNd {
  constructor(outputSize: OutputSize) { super('AdaptiveAvgPool1d', 1, outputSize); }
  protected pool(x: Tensor): Tensor { return adaptiveAvgPool1d(x, this.outputSize); }
}

/** Adaptive average pooling over [N, C, D, H, W] (3-D CNN heads). */
export class AdaptiveAvgPool3d extends AdaptivePoolNd {
  constructor(outputSize: OutputSize) { super('AdaptiveAvgPool3d', 3, outputSize); }
  protected pool(x: Tensor): Tensor { return adaptiveAvgPool3d(x, this.outputSize); }
}
