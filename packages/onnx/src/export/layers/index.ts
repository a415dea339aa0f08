/**
 * Layer-level export: nn modules whose ONNX op is better than their traced primitives. The
 * exporter takes `composite('module', ...)` whole when `layerExporters[type]` exists.
 */
import type { Tensor } from '@kiln/tensor';
import type { GraphBuilder } from '../builder.js';
import { batchNorm } from './batchnorm.js';
import { layerNorm } from './layernorm.js';
import { localResponseNorm } from './lrn.js';
import { groupNorm } from './groupnorm.js';
import { recurrentLayer } from './recurrent.js';

export interface LayerExporter {
  /** False to leave this module instance to the op-level mappings of its traced primitives. */
  accepts?(module: Record<string, unknown>): boolean;
  export(b: GraphBuilder, module: Record<string, unknown>, inputs: readonly Tensor[], outputs: readonly Tensor[]): void;
}

// Linear needs no entry: it runs the `linear` op, exported as Gemm at op level (ops/nn.ts).
export const layerExporters: Record<string, LayerExporter> = {
  BatchNorm1d: batchNorm,
  BatchNorm2d: batchNorm,
  BatchNorm3d: batchNorm,
  LocalResponseNorm: localResponseNorm,
  GroupNorm: groupNorm,
  LayerNorm: layerNorm,
  RNN: recurrentLayer,
  GRU: recurrentLayer,
  LSTM: recurrentLayer,
};
