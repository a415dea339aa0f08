/** Sampling from language models: temperature, top-k, top-p, seeded generation. */
export { samplingProbs, drawIndex, generate, type SamplingOptions, type GenerateOptions, type StepModel } from './sample.js';
