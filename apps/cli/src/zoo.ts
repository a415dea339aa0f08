/**
 * Model names for `kiln export --model`, `kiln train` and `kiln bench`: the factories of
 * @kiln/vision/models (lenet5, alexnet, vgg11, resnet18, mobilenetV2, efficientnetB0, ...).
 */
import * as visionModels from '@kiln/vision/models';
import type { Module } from '@kiln/nn';
import { UsageError } from './errors.js';

/** What a zoo factory takes: @kiln/vision's common options, plus `variant` where a model has one. */
export interface ZooOptions { numClasses?: number; inChannels?: number; variant?: string }
export type ZooFactory = (options?: ZooOptions) => Module;

/** The zoo: every lower-case function of @kiln/vision/models whose result is a Module. */
export function zoo(): Record<string, ZooFactory> {
  const out: Record<string, ZooFactory> = {};
  for (const [name, v] of Object.entries(visionModels as Record<string, unknown>)) {
    // factories are lower-case and take one options object; helpers like makeDivisible/minInputSize are not models
    if (typeof v === 'function' && /^[a-z]/.test(name) && !/^(make|min|check)/.test(name)) out[name] = v as ZooFactory;
  }
  return out;
}

/** The default input [C, H, W] of a zoo model: LeNet-5 takes 1×32×32, the ImageNet models 3×224×224. */
export function defaultInput(name: string): [number, number, number] {
  return /^lenet/i.test(name) ? [1, 32, 32] : [3, 224, 224];
}

/** Builds a zoo model by name; an unknown name is a usage error listing the known ones. */
export function buildZooModel(name: string, options: ZooOptions, command: string): Module {
  const factories = zoo();
  const f = factories[name];
  if (!f) throw new UsageError(`kiln ${command}: unknown model '${name}' (the zoo has: ${Object.keys(factories).sort().join(', ')})`);
  const opts: ZooOptions = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (opts as Record<string, unknown>)[k] = v;
  try {
    return f(opts);
  } catch (e) {
    throw new UsageError(`kiln ${command}: ${(e as Error).message}`);
  }
}
