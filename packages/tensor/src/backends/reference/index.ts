/** The pure-TypeScript reference backend: every kernel, written for clarity; the spec. */
import { registerReferenceBackend, type Backend, type Kernels } from '../../backend.js';
import { channelAffine, channelGradSums, channelMoments } from './channel.js';
import { convBackwardInput, convBackwardWeight, convForward } from './conv.js';
import { ctcLoss, ctcLossBackward } from './ctc.js';
import { binary, unary, where } from './elementwise.js';
import { gemm } from './gemm.js';
import { layerNorm, layerNormBackward } from './layer-norm.js';
import { optimizerStep, stateArena } from './optim.js';
import { gather, indexAdd, indexSelect, scatterAdd, stridedAccumulate, stridedCopy } from './movement.js';
import { argReduce, reduce } from './reduce.js';
import { softmax, softmaxBackward } from './softmax.js';
import {
  gruCell, gruCellBackward, lstmCell, lstmCellBackward, lstmSequence, lstmSequenceBackward, rnnCell, rnnCellBackward,
} from './recurrent.js';
import { avgPool, avgPoolBackward, col2im, im2col, maxPool, maxPoolBackward } from './window.js';

export const referenceKernels: Kernels = {
  unary, binary, where, reduce, argReduce, gemm, stridedCopy, stridedAccumulate,
  gather, scatterAdd, indexSelect, indexAdd, im2col, col2im, maxPool, maxPoolBackward, avgPool, avgPoolBackward,
  convForward, convBackwardInput, convBackwardWeight, channelMoments, channelAffine, channelGradSums,
  rnnCell, rnnCellBackward, lstmCell, lstmCellBackward, lstmSequence, lstmSequenceBackward, gruCell, gruCellBackward,
  ctcLoss, ctcLossBackward,
  softmax, softmaxBackward, layerNorm, layerNormBackward,
  stateArena, optimizerStep,
};

export const referenceBackend: Backend & { kernels: Kernels } = { name: 'reference', kernels: referenceKernels };

registerReferenceBackend(referenceBackend);
