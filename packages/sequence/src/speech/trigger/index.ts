/** Trigger-word detection (course 5.3.2): synthetic words and clips, labels, the Conv1d + GRU model, event-level F1, plots. */
export { TRIGGER_WORD, NEGATIVE_WORDS, wordDuration, renderWord, randomUtterance, type SyntheticWord, type Syllable, type Utterance } from './words.js';
export {
  makeTriggerClip, makeTriggerClips, labelWindows, triggerLabels, triggerFeatures, triggerBatch,
  type TriggerClip, type TriggerClipOptions, type TriggerEvent, type TriggerFeatureOptions,
} from './data.js';
export { detectionSteps, countDetections, detectionScores, type DetectionCounts, type DetectionScores } from './metrics.js';
export { TriggerWordModel, trainTriggerWord, evaluateTriggerWord, type TriggerWordModelOptions, type TrainTriggerOptions, type TriggerEvaluation } from './model.js';
export { triggerPlotSVG, type TriggerPlotOptions } from './plot.js';
