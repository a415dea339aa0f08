/**
 * Sampling from a language model's next-token logits: temperature, top-k and top-p (nucleus)
 * filtering, seeded; and autoregressive generation that stops at `<eos>` or a length limit.
 */
import { Generator, Tensor, checkOptions, noGrad, type OptionKind } from '@kiln/tensor';

export interface SamplingOptions {
  /**
   * Divides the logits before the softmax (default 1). Below 1 sharpens the distribution, above
   * 1 flattens it; 0 is greedy decoding (always the most likely token, ties to the lowest id).
   */
  temperature?: number;
  /** Keep only the k most likely tokens (default: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (default 1: all). */
  topP?: number;
}

const SAMPLING_KEYS = ['temperature', 'topK', 'topP'] as const;
const SAMPLING_SPEC: Record<string, OptionKind> = { temperature: 'number', topK: 'number', topP: 'number' };

function checkSampling(op: string, o: SamplingOptions, vocab: number): { temperature: number; topK: number; topP: number } {
  const temperature = o.temperature ?? 1, topK = o.topK ?? vocab, topP = o.topP ?? 1;
  if (!(typeof temperature === 'number' && temperature >= 0 && Number.isFinite(temperature))) throw new Error(`Kiln: ${op}: temperature must be a finite number >= 0, got ${String(o.temperature)}`);
  if (!(Number.isInteger(topK) && topK >= 1)) throw new Error(`Kiln: ${op}: topK must be an integer >= 1, got ${String(o.topK)}`);
  if (!(typeof topP === 'number' && topP > 0 && topP <= 1)) throw new Error(`Kiln: ${op}: topP must be in (0, 1], got ${String(o.topP)}`);
  return { temperature, topK: Math.min(topK, vocab), topP };
}

/**
 * The distribution sampling draws from: softmax(logits / temperature), cut to the top-k and
 * top-p tokens and renormalised. Temperature 0 puts all mass on the (first) most likely token.
 */
export function samplingProbs(logits: ArrayLike<number>, options: SamplingOptions = {}): Float64Array {
  const op = 'samplingProbs';
  checkOptions(op, options, SAMPLING_SPEC);
  const v = logits.length;
  if (v === 0) throw new Error(`Kiln: ${op}: logits are empty`);
  const { temperature, topK, topP } = checkSampling(op, options, v);
  const probs = new Float64Array(v);
  let best = 0;
  for (let i = 0; i < v; i++) {
    if (Number.isNaN(logits[i]!)) throw new Error(`Kiln: ${op}: logit ${i} is NaN`);
    if (logits[i]! > logits[best]!) best = i;
  }
  if (logits[best] === -Infinity) throw new Error(`Kiln: ${op}: every logit is -Infinity (all tokens suppressed?)`);
  if (temperature === 0) {
    probs[best] = 1;
    return probs;
  }
  const max = logits[best]!;
  let sum = 0;
  for (let i = 0; i < v; i++) { probs[i] = Math.exp((logits[i]! - max) / temperature); sum += probs[i]!; }
  for (let i = 0; i < v; i++) probs[i]! /= sum;
  if (topK >= v && topP >= 1) return probs;
  // rank by probability (stable: ties keep the lower id first), keep a prefix
  const order = Array.from({ length: v }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
  let keep = topK, cum = 0;
  for (let r = 0; r < keep; r++) {
    cum += probs[order[r]!]!;
    if (cum >= topP - 1e-12) { keep = r + 1; break; }
  }
  const out = new Float64Array(v);
  let kept = 0;
  for (let r = 0; r < keep; r++) kept += probs[order[r]!]!;
  for (let r = 0; r < keep; r++) out[order[r]!] = probs[order[r]!]! / kept;
  return out;
}

/** Draws one index from a probability vector with `generator`. */
export function drawIndex(probs: ArrayLike<number>, generator: Generator): number {
  if (!(generator instanceof Generator)) throw new Error(`Kiln: drawIndex: generator must be a Generator, got ${typeof generator === 'number' ? generator : typeof generator}`);
  // as torch.multinomial: a negative, NaN or infinite entry is an error, not a skipped token
  for (let i = 0; i < probs.length; i++) {
    if (!(probs[i]! >= 0 && probs[i]! < Infinity)) throw new Error(`Kiln: drawIndex: probabilities must be finite and >= 0, got ${probs[i]} at index ${i}`);
  }
  const u = generator.random();
  let cum = 0, last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! === 0) continue;
    cum += probs[i]!;
    last = i;
    if (u < cum) return i;
  }
  if (last < 0) throw new Error('Kiln: drawIndex: the probabilities are all zero');
  return last; // rounding left u above the total
}

/** A model that continues from a carried state: `forwardWithState(ids [B, T], state)` → `[logits [B, T, V], state]`. */
export interface StepModel {
  forwardWithState(ids: Tensor, state: unknown): [Tensor, unknown];
  readonly training?: boolean;
  eval?(): unknown;
  train?(mode?: boolean): unknown;
}

export interface GenerateOptions extends SamplingOptions {
  /** How many sequences to draw at once (default 1). */
  n?: number;
  /** Token ids fed before sampling starts (default `[bosId]`); generation continues after them. */
  prefix?: readonly number[];
  /** The start token, used when there is no prefix. */
  bosId?: number;
  /** Sampling this token ends a sequence (it is not included in the result). */
  eosId?: number;
  /** Most tokens to generate per sequence (default 50). */
  maxLength?: number;
  /** Token ids never to sample (e.g. `<pad>`, `<unk>`, `<bos>`). */
  suppress?: readonly number[];
  /** Seed of the sampling generator (default: a fresh random seed); or pass `generator`. */
  seed?: number;
  generator?: Generator;
}

const ids = (v: unknown) => (Array.isArray(v) ? null : 'an array of token ids');
const GENERATE_SPEC: Record<string, OptionKind> = {
  ...SAMPLING_SPEC, n: 'number', prefix: ids, bosId: 'int', eosId: 'int', maxLength: 'number', suppress: ids, seed: 'finite',
  generator: (v) => (v instanceof Generator ? null : 'a Generator'),
};

/**
 * Samples `n` continuations token by token (in eval mode, without gradients), feeding each
 * sampled token back with the carried state. Each sequence stops at `eosId` or after `maxLength`
 * tokens; returns the generated ids (prefix and `<eos>` excluded).
 */
export function generate(model: StepModel, options: GenerateOptions = {}): number[][] {
  const op = 'generate';
  checkOptions(op, options, GENERATE_SPEC);
  if (!model || typeof model.forwardWithState !== 'function') throw new Error(`Kiln: ${op}: model must have forwardWithState(ids, state) => [logits, state]`);
  const n = options.n ?? 1, maxLength = options.maxLength ?? 50;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`Kiln: ${op}: n must be an integer >= 1, got ${String(options.n)}`);
  if (!(Number.isInteger(maxLength) && maxLength >= 1)) throw new Error(`Kiln: ${op}: maxLength must be an integer >= 1, got ${String(options.maxLength)}`);
  const prefix = options.prefix ?? (options.bosId !== undefined ? [options.bosId] : null);
  if (!prefix || prefix.length === 0) throw new Error(`Kiln: ${op}: give a prefix or a bosId to start from`);
  for (const id of prefix) if (!Number.isInteger(id) || id < 0) throw new Error(`Kiln: ${op}: prefix ids must be integers >= 0, got ${id}`);
  if (options.seed !== undefined && options.generator !== undefined) throw new Error(`Kiln: ${op}: give seed or generator, not both`);
  const suppress = options.suppress ?? [];
  if (!Array.isArray(suppress) || suppress.some((id) => !Number.isInteger(id) || id < 0)) throw new Error(`Kiln: ${op}: suppress must be an array of token ids >= 0, got ${JSON.stringify(options.suppress)}`);
  if (options.eosId !== undefined && suppress.includes(options.eosId)) throw new Error(`Kiln: ${op}: suppress holds eosId ${options.eosId}, so no sequence could end`);
  const gen = options.generator ?? new Generator(options.seed);
  const sampling: SamplingOptions = {};
  for (const k of SAMPLING_KEYS) if (options[k] !== undefined) sampling[k] = options[k];
  const wasTraining = model.training;
  model.eval?.();
  try {
    return noGrad(() => {
      const out: number[][] = Array.from({ length: n }, () => []);
      const done = new Array<boolean>(n).fill(false);
      const start = new Int32Array(n * prefix.length);
      for (let b = 0; b < n; b++) start.set(prefix, b * prefix.length);
      let [logits, state] = model.forwardWithState(new Tensor(start, [n, prefix.length], 'int32'), null);
      for (let step = 0; step < maxLength; step++) {
        const [, t, v] = logits.shape as [number, number, number];
        if (logits.ndim !== 3 || logits.shape[0] !== n) throw new Error(`Kiln: ${op}: the model must return logits [${n}, T, V], got [${logits.shape.join(',')}]`);
        const data = logits.dataSync();
        const next = new Int32Array(n);
        for (let b = 0; b < n; b++) {
          if (done[b]) { next[b] = options.eosId ?? 0; continue; }
          let row: ArrayLike<number> = data.subarray((b * t + t - 1) * v, (b * t + t) * v);
          if (suppress.length > 0) {
            const r = Float64Array.from(row as ArrayLike<number>);
            for (const id of suppress) if (id < v) r[id] = -Infinity;
            row = r;
          }
          const id = drawIndex(samplingProbs(row, sampling), gen);
          next[b] = id;
          if (id === options.eosId) done[b] = true;
          else out[b]!.push(id);
        }
        if (done.every(Boolean) || step === maxLength - 1) break;
        [logits, state] = model.forwardWithState(new Tensor(next, [n, 1], 'int32'), state);
      }
      return out;
    });
  } finally {
    if (wasTraining) model.train?.(true);
  }
}
