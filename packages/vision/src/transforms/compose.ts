/**
 * Transform factories (torchvision's `transforms.Resize(...)`, lower-cased) and `compose`: each
 * returns a function, so a pipeline is `compose([toTensor(), resize(256), centerCrop(224), normalize()])`.
 */
import { checkOptions, type Tensor } from '@kiln/tensor';
import type { Image } from '../image/image.js';
import * as F from './functional.js';

/** A transform is a function with a description (shown by `compose`'s toString). */
export type Transform<In = Tensor, Out = Tensor> = ((x: In) => Out) & { readonly description: string };

function named<In, Out>(description: string, fn: (x: In) => Out): Transform<In, Out> {
  return Object.assign(fn, { description });
}

export const resize = (size: F.Size, options: F.ResizeOptions = {}): Transform => {
  checkOptions('resize', options, { antialias: 'boolean', maxSize: 'posint' });
  F.resizedSize(1, 1, size, options.maxSize); // validates now, not at the first image
  return named(`resize(${JSON.stringify(size)}${options.antialias ? ', antialias' : ''})`, (x: Tensor) => F.resize(x, size, options));
};
export const centerCrop = (size: number | readonly [number] | readonly [number, number]): Transform =>
  named(`centerCrop(${JSON.stringify(size)})`, (x: Tensor) => F.centerCrop(x, size));
export const normalize = (mean: readonly number[] = F.IMAGENET_MEAN, std: readonly number[] = F.IMAGENET_STD): Transform =>
  named(`normalize(mean=${JSON.stringify(mean)}, std=${JSON.stringify(std)})`, (x: Tensor) => F.normalize(x, mean, std));
export const toTensor = (): Transform<Image, Tensor> => named('toTensor()', F.toTensor);
export const toImage = (): Transform<Tensor, Image> => named('toImage()', F.toImage);

/** Chains transforms left to right, like torchvision's Compose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function compose<In = any, Out = any>(transforms: readonly ((x: any) => any)[]): Transform<In, Out> {
  if (!Array.isArray(transforms)) throw new Error(`Kiln: compose: expected an array of transforms, got ${String(transforms)}`);
  transforms.forEach((t, i) => {
    if (typeof t !== 'function') throw new Error(`Kiln: compose: transform ${i} is not a function, got ${String(t)}`);
  });
  const description = `compose([${transforms.map((t) => (t as Partial<Transform>).description ?? t.name ?? 'fn').join(', ')}])`;
  return named(description, (x: In) => transforms.reduce((acc, t, i) => {
    try {
      return t(acc);
    } catch (e) {
      const err = e as Error;
      err.message = `${err.message} (in ${description}, transform ${i})`;
      throw err;
    }
  }, x as unknown) as Out);
}
