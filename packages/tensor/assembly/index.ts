// Entry point of the wasm kernels (compiled by scripts/build-wasm.mjs).
export { gemmTask, scratchBytes } from './gemm';
export { gemvTask } from './gemv';
export { convTask } from './conv';
export { poolTask } from './pool';
export { reluF32, reluGradF32, binaryF32, binaryRowsF32, clampF32, columnSumTask } from './elementwise';
export { depthwiseTask } from './depthwise';
export { sgdF32, rmspropF32, adamF32, optimTask } from './optim';
export { lstmCellF32, lstmCellBackwardF32, gruCellF32, gruCellBackwardF32, lstmPackForward, lstmPackBackward, lstmPackRows, lstmForwardTask, lstmBackwardTask, columnSumsF32 } from './recurrent';
export { expF32, softmaxRowsF32, softmaxBackwardRowsF32, softmaxTask } from './softmax';
export { layerNormRowsF32, layerNormBackwardRowsF32, layerNormTask } from './layer-norm';
export { channelTask } from './channel';
export { tapsTask } from './taps';
export { indexRowsTask } from './index-rows';
export { stridedCopyTask } from './strided-copy';
