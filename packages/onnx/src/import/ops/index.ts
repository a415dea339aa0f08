/** Every ONNX op Kiln can import (ai.onnx domain), by op_type. */
import type { OpHandler } from '../context.js';
import { mathOps } from './math.js';
import { nnOps } from './nn.js';
import { shapeOps } from './shape.js';
import { activationOps } from './activation.js';
import { recurrentOps } from './recurrent.js';
import { normalizationOps } from './normalization.js';

export const importHandlers: Record<string, OpHandler> = { ...mathOps, ...shapeOps, ...nnOps, ...activationOps, ...normalizationOps, ...recurrentOps };
