/** @kiln/train — the fit loop: progress, early stopping, checkpoints, history and learning curves. */
export { fit, evaluate, detachState, type TbpttOptions, type Stateful, type RecurrentState, type FitOptions, type History, type EpochLogs, type Callbacks, type EarlyStopping, type Metric, type LossFn, type EvalResult, type EvaluateOptions } from './fit.js';
export { learningCurvesSvg, saveLearningCurves, type CurvesOptions } from './curves.js';
export { makeReporter, type ProgressMode, type ProgressReporter } from './progress.js';
