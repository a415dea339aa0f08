/**
 * Decoding CTC outputs `[T, N, C]` (time-major, as ctcLoss takes them; `[T, C]` for one
 * sequence) into label sequences.
 *
 * - ctcGreedyDecode: the best class per frame, repeats merged, blanks dropped ("best path").
 * - ctcBeamSearch: prefix beam search. Each prefix carries two log-probabilities, of the frames
 *   so far ending in a blank (pb) and ending in its last label (pnb); a label equal to the
 *   prefix's last one extends it only from pb (a repeat needs a blank between), and otherwise
 *   repeats merge into the same prefix. With a beam wide enough to hold every prefix, the
 *   scores are exact: the total probability of each labelling over all of its alignments.
 */
import { checkOptions, Tensor, type OptionKind } from '@kiln/tensor';
import { readLengths, shapeOf, type CTCLengths } from './lengths.js';

export interface CTCGreedyDecodeOptions {
  /** The blank class (default 0). */
  blank?: number;
  /** Frames per sequence (default: all T). */
  inputLengths?: CTCLengths;
}

export interface CTCBeamSearchOptions extends CTCGreedyDecodeOptions {
  /** Prefixes kept after each frame (default 10; at least 1). */
  beamWidth?: number;
  /** Hypotheses returned per sequence, best first (default 1, at most beamWidth). */
  nBest?: number;
  /** Pruning: a label whose log-probability at a frame is below this is not tried there (default: none). */
  pruneLogProb?: number;
}

/** One decoded labelling and its log-probability (summed over its alignments in the beam). */
export interface CTCHypothesis {
  labels: number[];
  logProb: number;
}

interface Scores { data: Float32Array | Float64Array | Int32Array | Uint8Array; T: number; N: number; C: number; lengths: number[]; blank: number }

function scoresOf(fn: string, logProbs: Tensor, options: CTCGreedyDecodeOptions): Scores {
  if (!(logProbs instanceof Tensor)) throw new Error(`Kiln: ${fn}: logProbs must be a Tensor, got ${logProbs === null ? 'null' : typeof logProbs}`);
  if (logProbs.ndim !== 2 && logProbs.ndim !== 3) throw new Error(`Kiln: ${fn}: logProbs must be [T, N, C] (or [T, C] unbatched), got ${shapeOf(logProbs)}`);
  const unbatched = logProbs.ndim === 2;
  const T = logProbs.shape[0]!;
  const N = unbatched ? 1 : logProbs.shape[1]!;
  const C = logProbs.shape[logProbs.ndim - 1]!;
  const blank = options.blank ?? 0;
  if (blank >= C) throw new Error(`Kiln: ${fn}: blank = ${blank} is not a class of logProbs ${shapeOf(logProbs)} (C = ${C})`);
  const lengths = options.inputLengths === undefined ? new Array<number>(N).fill(T) : readLengths(fn, 'inputLengths', options.inputLengths, N, unbatched);
  lengths.forEach((l, n) => {
    if (l > T) throw new Error(`Kiln: ${fn}: inputLengths[${n}] = ${l} exceeds T = ${T} (logProbs ${shapeOf(logProbs)})`);
  });
  return { data: logProbs.dataSync() as Scores['data'], T, N, C, lengths, blank };
}

const isLengths = (v: unknown): string | null =>
  v instanceof Tensor || typeof v === 'number' || (typeof v === 'object' && v !== null && typeof (v as ArrayLike<number>).length === 'number')
    ? null : 'an int32 Tensor or an array of integers';
const GREEDY_SPEC: Record<string, OptionKind> = { blank: 'nonnegint', inputLengths: isLengths };

/** Best path decoding: per sequence, argmax per frame, repeats merged, blanks dropped. */
export function ctcGreedyDecode(logProbs: Tensor, options: CTCGreedyDecodeOptions = {}): number[][] {
  checkOptions('ctcGreedyDecode', options, GREEDY_SPEC);
  const { data, N, C, lengths, blank } = scoresOf('ctcGreedyDecode', logProbs, options);
  return lengths.map((len, n) => {
    const out: number[] = [];
    let prev = -1;
    for (let t = 0; t < len; t++) {
      const row = (t * N + n) * C;
      let best = 0;
      for (let c = 1; c < C; c++) if (data[row + c]! > data[row + best]!) best = c;
      if (best !== blank && best !== prev) out.push(best);
      prev = best;
    }
    return out;
  });
}

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

interface Beam { labels: number[]; pb: number; pnb: number }

/** Prefix beam search (see the module comment); per sequence, up to `nBest` hypotheses, best first. */
export function ctcBeamSearch(logProbs: Tensor, options: CTCBeamSearchOptions = {}): CTCHypothesis[][] {
  const fn = 'ctcBeamSearch';
  checkOptions(fn, options, { ...GREEDY_SPEC, beamWidth: 'posint', nBest: 'posint', pruneLogProb: 'number' });
  const beamWidth = options.beamWidth ?? 10;
  const nBest = options.nBest ?? 1;
  if (nBest > beamWidth) throw new Error(`Kiln: ${fn}: nBest = ${nBest} exceeds beamWidth = ${beamWidth} (the beam holds at most beamWidth hypotheses)`);
  const prune = options.pruneLogProb ?? -Infinity;
  const { data, N, C, lengths, blank } = scoresOf(fn, logProbs, options);
  const total = (b: Beam) => logAdd(b.pb, b.pnb);
  return lengths.map((len, n) => {
    let beams: Beam[] = [{ labels: [], pb: 0, pnb: -Infinity }];
    for (let t = 0; t < len; t++) {
      const row = (t * N + n) * C;
      const next = new Map<string, Beam>();
      const at = (labels: number[]): Beam => {
        const key = labels.join(',');
        let b = next.get(key);
        if (!b) next.set(key, (b = { labels, pb: -Infinity, pnb: -Infinity }));
        return b;
      };
      for (const beam of beams) {
        const p = total(beam);
        const same = at(beam.labels);
        same.pb = logAdd(same.pb, p + data[row + blank]!);
        const last = beam.labels.length ? beam.labels[beam.labels.length - 1]! : -1;
        if (last >= 0) same.pnb = logAdd(same.pnb, beam.pnb + data[row + last]!);
        for (let c = 0; c < C; c++) {
          const lp = data[row + c]!;
          if (c === blank || lp < prune) continue;
          const ext = at([...beam.labels, c]);
          ext.pnb = logAdd(ext.pnb, (c === last ? beam.pb : p) + lp);
        }
      }
      beams = [...next.values()].filter((b) => total(b) > -Infinity).sort((a, b) => total(b) - total(a)).slice(0, beamWidth);
      if (beams.length === 0) break;
    }
    return beams.slice(0, nBest).map((b) => ({ labels: b.labels, logProb: total(b) }));
  });
}
