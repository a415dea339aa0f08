/** @kiln/optim — optimizers (SGD, RMSprop, Adam, AdamW), learning-rate schedules and gradient clipping. */
export { Optimizer, type ParamGroup, type ParamsArg, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export {
  LRScheduler, setLr, inverseTimeDecay, exponentialDecay, inverseSqrtEpoch, inverseSqrtStep, stepDecay, cosineAnnealing,
  linearWarmup, constant, type Schedule,
} from './schedules.js';
export { clipGradNorm, clipGradValue } from './clip.js';
