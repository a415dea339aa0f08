/**
 * Op-level export: one mapping per Kiln primitive (and for the composites the exporter takes
 * whole). Layer-level mappings in ../layers take precedence for nn modules.
 */
import type { TraceRecord } from '@kiln/tensor';
import type { GraphBuilder } from '../builder.js';
import { elementwiseOps } from './elementwise.js';
import { shapeOps } from './shape.js';
import { nnOps } from './nn.js';
import { activationOps } from './activation.js';
import { poolOps } from './pool.js';
import { detectionOps } from './detection.js';

export type OpExporter = (b: GraphBuilder, rec: TraceRecord) => void;

export const opExporters: Record<string, OpExporter> = { ...elementwiseOps, ...shapeOps, ...nnOps, ...activationOps, ...poolOps, ...detectionOps };

/** Composite ops with a direct ONNX equivalent (taken as one node). */
export const compositeOps = new Set(['softmax', 'logSoftmax', 'dropout', 'hardsigmoid', 'hardswish', 'layerNorm']);
