/**
 * featureExtractor(model, layerNames): named intermediate activations of any model, like
 * torchvision's create_feature_extractor with dotted module names ('features.3', 'layer2',
 * 'layer2.0.conv1'). Gradients flow through the returned activations (style transfer
 * differentiates them with respect to the input). The forward pass stops once every requested
 * layer has run, so the later, unused layers cost nothing.
 */
import { Tensor } from '@kiln/tensor';
import type { Module } from '@kiln/nn';

export interface FeatureExtractor {
  /** The requested layer names, in the order given. */
  readonly layers: readonly string[];
  /** Runs the model on `x` (in the model's current mode) and returns each layer's output by name. */
  forward(x: Tensor): Record<string, Tensor>;
}

/** Thrown inside the model's forward to stop it once every layer has been captured. */
class Captured extends Error {}

export function featureExtractor(model: Module, layerNames: readonly string[]): FeatureExtractor {
  if (!model || typeof (model as Module).namedModules !== 'function') throw new Error(`Kiln: featureExtractor: model must be a Module, got ${String(model)}`);
  if (!Array.isArray(layerNames) || layerNames.length === 0 || !layerNames.every((n) => typeof n === 'string')) {
    throw new Error(`Kiln: featureExtractor: layerNames must be a non-empty array of dotted module names, got ${JSON.stringify(layerNames)}`);
  }
  const modules = new Map(model.namedModules().filter(([n]) => n !== ''));
  const unknown = layerNames.filter((n) => !modules.has(n));
  if (unknown.length > 0) {
    const names = [...modules.keys()];
    throw new Error(`Kiln: featureExtractor: unknown layer name${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} in ${model.constructor.name} (layers: ${names.slice(0, 40).join(', ')}${names.length > 40 ? `, ... ${names.length - 40} more` : ''})`);
  }
  if (new Set(layerNames).size !== layerNames.length) throw new Error(`Kiln: featureExtractor: layerNames has duplicates: ${JSON.stringify(layerNames)}`);
  const layers = [...layerNames];

  return {
    layers,
    forward(x: Tensor): Record<string, Tensor> {
      const out: Record<string, Tensor> = {};
      const restore: (() => void)[] = [];
      let pending = layers.length;
      for (const name of layers) {
        const target = modules.get(name)!;
        const own = Object.getOwnPropertyDescriptor(target, 'forward');
        const inner = target.forward.bind(target);
        Object.defineProperty(target, 'forward', {
          configurable: true, writable: true, enumerable: false,
          value: (...args: unknown[]) => {
            const y = inner(...args);
            if (!(name in out)) {
              if (!(y instanceof Tensor)) throw new Error(`Kiln: featureExtractor: layer '${name}' returned ${typeof y}, not a Tensor`);
              out[name] = y;
              if (--pending === 0) throw new Captured();
            }
            return y;
          },
        });
        restore.push(() => (own ? Object.defineProperty(target, 'forward', own) : delete (target as unknown as Record<string, unknown>).forward));
      }
      try {
        model.forward(x);
      } catch (e) {
        if (!(e instanceof Captured)) throw e;
      } finally {
        for (const r of restore.reverse()) r();
      }
      const missing = layers.filter((n) => !(n in out));
      if (missing.length > 0) throw new Error(`Kiln: featureExtractor: layer${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')} did not run in ${model.constructor.name}.forward`);
      return Object.fromEntries(layers.map((n) => [n, out[n]!]));
    },
  };
}
