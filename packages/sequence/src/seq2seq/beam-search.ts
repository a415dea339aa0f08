/**
 * Beam search and greedy decoding for any autoregressive decoder (course 5.3.1.1), through one
 * small interface, the step function:
 *
 *   step(prefixes, states) → { logProbs, states }
 *
 * - `prefixes[i]`: the tokens hypothesis i has produced so far (empty at the first step; the
 *   start token is the decoder's business, e.g. `<bos>`).
 * - `states[i]`: whatever the decoder carried for hypothesis i (an RNN's hidden state, a
 *   Transformer's key/value cache, or nothing: a decoder may recompute from `prefixes`). The
 *   first call gets `options.state` for the single starting hypothesis.
 * - returns `logProbs[i]`: log P(next token | x, prefix i) over the whole vocabulary (an array
 *   per hypothesis or a `[n, V]` tensor), and `states[i]`: the decoder's state after reading
 *   prefix i. Whichever token is chosen is appended to the prefix at the next call, which gets
 *   that state back; so an RNN decoder feeds `prefix.at(-1)` (or `<bos>` when the prefix is
 *   empty) into its cell with the state it is given, and returns the new hidden state.
 *
 * All live hypotheses are scored in one call, so a decoder can run them as one batch.
 *
 * Objective (the course's length normalisation): a finished hypothesis y⟨1..T⟩ (T counts the
 * `<eos>` it ends with) is ranked by (1/T^α)·Σ_t log P(y⟨t⟩ | x, y⟨<t⟩); α = 0 is plain log
 * probability, α = 1 the per-token average, the course suggests α ≈ 0.7.
 *
 * Search: each step expands every live hypothesis by every token and keeps the `beamWidth` best
 * expansions by log probability; an expansion that chose `<eos>` is set aside as finished and
 * its slot is not refilled (the beam narrows, as in the course), so at most `beamWidth` finish.
 * Hypotheses still alive at `maxLength` tokens are returned too, with `finished: false`.
 * With `beamWidth` 1 this is exactly greedy decoding.
 */
import { Tensor, checkOptions } from '@kiln/tensor';

export interface StepResult<S> {
  logProbs: ArrayLike<number>[] | Tensor;
  states: S[];
}

export type StepFunction<S> = (prefixes: readonly (readonly number[])[], states: readonly S[]) => StepResult<S>;

export interface BeamSearchOptions<S> {
  beamWidth: number;
  /** Longest output, in tokens (the `<eos>` included). */
  maxLength: number;
  /** The end-of-sequence token id. */
  eos: number;
  /** α of the length normalisation (default 0: no normalisation). */
  lengthPenalty?: number;
  /** How many hypotheses to return, best first (default beamWidth). */
  nBest?: number;
  /** The decoder's state before the first token (default undefined). */
  state?: S;
}

export interface Hypothesis {
  /** The tokens, without the final `<eos>`. */
  tokens: number[];
  /** Σ log P over the tokens and the `<eos>` (if finished). */
  logProb: number;
  /** The normalised objective (1/T^α)·logProb, T = tokens.length + (finished ? 1 : 0). */
  score: number;
  /** Whether it ended with `<eos>` (false: cut at maxLength). */
  finished: boolean;
}

const BEAM_SPEC = { beamWidth: 'int', maxLength: 'int', eos: 'nonnegint', lengthPenalty: 'finite', nBest: 'int', state: () => null } as const;

/** (1/T^α)·logProb, with the length T as in the module comment. */
export function normalizedScore(logProb: number, length: number, lengthPenalty = 0): number {
  return lengthPenalty === 0 ? logProb : logProb / Math.pow(Math.max(length, 1), lengthPenalty);
}

function checkBeamOptions(fn: string, step: unknown, options: unknown): void {
  if (typeof step !== 'function') throw new Error(`Kiln: ${fn}: step must be a function (prefixes, states) => { logProbs, states }`);
  if (options === null || typeof options !== 'object') throw new Error(`Kiln: ${fn}: options must be an object with beamWidth, maxLength and eos`);
  checkOptions(fn, options as Record<string, unknown>, BEAM_SPEC);
  const o = options as BeamSearchOptions<unknown>;
  if (o.beamWidth === undefined || o.beamWidth < 1) throw new Error(`Kiln: ${fn}: beamWidth must be an integer ≥ 1, got ${String(o.beamWidth)}`);
  if (o.maxLength === undefined || o.maxLength < 1) throw new Error(`Kiln: ${fn}: maxLength must be an integer ≥ 1, got ${String(o.maxLength)}`);
  if (o.eos === undefined) throw new Error(`Kiln: ${fn}: eos (the end-of-sequence token id) is required`);
  if (o.nBest !== undefined && (o.nBest < 1 || o.nBest > o.beamWidth)) throw new Error(`Kiln: ${fn}: nBest must be in 1..beamWidth (${o.beamWidth}), got ${o.nBest}`);
  if ((o.lengthPenalty ?? 0) < 0) throw new Error(`Kiln: ${fn}: lengthPenalty must be ≥ 0, got ${o.lengthPenalty}`);
}

/** The rows of a step's logProbs as arrays, checked against the number of hypotheses. */
function rowsOf(fn: string, lp: ArrayLike<number>[] | Tensor, n: number): ArrayLike<number>[] {
  let rows: ArrayLike<number>[];
  if (lp instanceof Tensor) {
    if (lp.ndim !== 2 || lp.shape[0] !== n) throw new Error(`Kiln: ${fn}: step returned logProbs of shape [${lp.shape.join(',')}] for ${n} hypotheses; expected [${n}, vocab]`);
    const d = lp.dataSync(), V = lp.shape[1]!;
    rows = Array.from({ length: n }, (_, i) => d.subarray(i * V, (i + 1) * V) as ArrayLike<number>);
  } else {
    if (!Array.isArray(lp) || lp.length !== n) throw new Error(`Kiln: ${fn}: step returned ${Array.isArray(lp) ? lp.length : 'no'} rows of logProbs for ${n} hypotheses`);
    rows = lp;
  }
  return rows;
}

/** Beam search: the `nBest` best hypotheses under the normalised objective, best first. */
export function beamSearch<S>(step: StepFunction<S>, options: BeamSearchOptions<S>): Hypothesis[] {
  const fn = 'beamSearch';
  checkBeamOptions(fn, step, options);
  const { beamWidth, maxLength, eos, lengthPenalty = 0, nBest = beamWidth } = options;
  let alive: { tokens: number[]; logProb: number; state: S }[] = [{ tokens: [], logProb: 0, state: options.state as S }];
  const done: Hypothesis[] = [];
  for (let t = 0; t < maxLength && alive.length > 0; t++) {
    const out = step(alive.map((h) => h.tokens), alive.map((h) => h.state));
    const rows = rowsOf(fn, out?.logProbs, alive.length);
    if (!Array.isArray(out.states) || out.states.length !== alive.length) {
      throw new Error(`Kiln: ${fn}: step returned ${Array.isArray(out.states) ? out.states.length : 'no'} states for ${alive.length} hypotheses`);
    }
    if (t === 0 && !(eos < rows[0]!.length)) throw new Error(`Kiln: ${fn}: eos = ${eos} is outside the step's vocabulary of ${rows[0]!.length}`);
    // the best `width` expansions (width = live slots), by log probability; ties → lower hypothesis, lower token
    const width = beamWidth - done.length;
    const best: { h: number; v: number; lp: number }[] = [];
    rows.forEach((row, h) => {
      for (let v = 0; v < row.length; v++) {
        const lp = alive[h]!.logProb + row[v]!;
        if (Number.isNaN(lp)) throw new Error(`Kiln: ${fn}: step returned NaN log probability for hypothesis ${h}, token ${v}`);
        if (best.length === width && lp <= best[width - 1]!.lp) continue;
        let i = best.length;
        while (i > 0 && best[i - 1]!.lp < lp) i--;
        best.splice(i, 0, { h, v, lp });
        if (best.length > width) best.pop();
      }
    });
    const next: typeof alive = [];
    for (const { h, v, lp } of best) {
      if (lp === -Infinity) continue;
      const tokens = alive[h]!.tokens;
      if (v === eos) done.push({ tokens: [...tokens], logProb: lp, score: normalizedScore(lp, tokens.length + 1, lengthPenalty), finished: true });
      else next.push({ tokens: [...tokens, v], logProb: lp, state: out.states[h]! });
    }
    alive = next;
  }
  for (const h of alive) done.push({ tokens: h.tokens, logProb: h.logProb, score: normalizedScore(h.logProb, h.tokens.length, lengthPenalty), finished: false });
  done.sort((a, b) => b.score - a.score);
  return done.slice(0, nBest);
}

/** Greedy decoding: the most probable token at every step (beam search of width 1). */
export function greedyDecode<S>(step: StepFunction<S>, options: Omit<BeamSearchOptions<S>, 'beamWidth' | 'nBest' | 'lengthPenalty'>): Hypothesis {
  // width 1 by definition: a beamWidth, nBest or lengthPenalty given here would be overridden or ignored
  for (const k of ['beamWidth', 'nBest', 'lengthPenalty'] as const) {
    const v = (options as Record<string, unknown> | null)?.[k];
    if (v !== undefined) throw new Error(`Kiln: greedyDecode: option '${k}' does not apply to greedy decoding (width 1), got ${String(v)}; use beamSearch`);
  }
  checkBeamOptions('greedyDecode', step, { ...options, beamWidth: 1 });
  return beamSearch(step, { ...options, beamWidth: 1 })[0]!;
}

/**
 * log P(y | x) of a given sequence through the same step function: Σ_t log P(y⟨t⟩ | y⟨<t⟩), with
 * `<eos>` appended (unless `appendEos: false`). The score error analysis compares.
 */
export function sequenceLogProb<S>(step: StepFunction<S>, tokens: readonly number[], options: { eos: number; state?: S; appendEos?: boolean }): number {
  const seq = options.appendEos === false ? [...tokens] : [...tokens, options.eos];
  let state = options.state as S, total = 0;
  for (let t = 0; t < seq.length; t++) {
    const out = step([seq.slice(0, t)], [state]);
    const row = rowsOf('sequenceLogProb', out.logProbs, 1)[0]!;
    const v = seq[t]!;
    if (!(v >= 0 && v < row.length)) throw new Error(`Kiln: sequenceLogProb: token ${v} at position ${t} is outside the vocabulary of ${row.length}`);
    total += row[v]!;
    state = out.states[0]!;
  }
  return total;
}
