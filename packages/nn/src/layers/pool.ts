import { adaptiveAvgPool2d, avgPool2d, interpolate, maxPool2d, type InterpolateMode, type Tensor } from '@kiln/tensor';
import { Module } from '../module.js';
import { checkInput } from './check.js';
import { checkOptions } from './options.js';

type Spatial = number | readonly number[];

/** PyTorch's pools take a positive integer kernel size (or one per spatial dim). */
function checkKernel(layer: string, k: unknown): void {
  const ok = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!(ok(k) || (Array.isArray(k) && k.length > 0 && k.every(ok)))) {
    throw new Error(`Kiln: ${layer}: kernelSize must be a positive integer or an array of them, got ${JSON.stringify(k)}`);
  }
}

function check4d(name: string, x: Tensor): void {
  checkInput(name, x, x.ndim === 4 || x.ndim === 3, '[N, C, H, W] (or [C, H, W])');
}

export interface MaxPool2dOptions {
  stride?: Spatial;
  padding?: Spatial;
  dilation?: Spatial;
  ceilMode?: boolean;
}

/** 2-D max pooling (stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Spatial, readonly options: MaxPool2dOptions = {}) {
    super();
    checkKernel('MaxPool2d', kernelSize);
    checkOptions('MaxPool2d', options, { stride: 'spatial', padding: 'spatial', dilation: 'spatial', ceilMode: 'boolean' });
  }
  override forward(x: Tensor): Tensor {
    check4d('MaxPool2d', x);
    return maxPool2d(x, this.kernelSize, { ...this.options, returnIndices: false }) as Tensor;
  }
}

export interface AvgPool2dOptions {
  stride?: Spatial;
  padding?: Spatial;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

/** 2-D average pooling (stride defaults to the kernel size; padding counted in the divisor by default). */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Spatial, readonly options: AvgPool2dOptions = {}) {
    super();
    checkKernel('AvgPool2d', kernelSize);
    checkOptions('AvgPool2d', options, { stride: 'spatial', padding: 'spatial', ceilMode: 'boolean', countIncludePad: 'boolean' });
  }
  override forward(x: Tensor): Tensor {
    check4d('AvgPool2d', x);
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

/** Averages to a fixed output size (null keeps that input dim). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | ReadonlyArray<number | null>) {
    super();
    const ok = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) > 0);
    if (!(typeof outputSize === 'number' ? ok(outputSize) : Array.isArray(outputSize) && outputSize.length === 2 && outputSize.every(ok))) {
      throw new Error(`Kiln: AdaptiveAvgPool2d: outputSize must be a positive integer or 2 of them (null keeps the input size), got ${JSON.stringify(outputSize)}`);
    }
  }
  override forward(x: Tensor): Tensor {
    check4d('AdaptiveAvgPool2d', x);
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

export interface UpsampleOptions {
  size?: Spatial;
  scaleFactor?: number | readonly number[];
  mode?: InterpolateMode;
  alignCorners?: boolean;
}

/** Resizes spatial dims by `size` or `scaleFactor` (nearest by default). */
export class Upsample extends Module {
  constructor(readonly options: UpsampleOptions) {
    super();
    checkOptions('Upsample', options, {
      size: 'spatial', alignCorners: 'boolean', mode: ['nearest', 'linear', 'bilinear', 'trilinear'],
      scaleFactor: (v) => (typeof v === 'number' || (Array.isArray(v) && v.every((s) => typeof s === 'number')) ? null : 'a number or an array of numbers'),
    });
    if ((options?.size === undefined) === (options?.scaleFactor === undefined)) {
      throw new Error('Kiln: Upsample: give exactly one of size and scaleFactor');
    }
  }
  override forward(x: Tensor): Tensor {
    checkInput('Upsample', x, x.ndim >= 3 && x.ndim <= 5, '3-d, 4-d or 5-d [N, C, ...spatial] input');
    return interpolate(x, this.options);
  }
}
