/**
 * Labelled sentences for sentiment classification, generated from a word-valence lexicon (e.g.
 * AFINN-165, which the caller loads) by a seeded generator. Besides plain sentences it writes the
 * two cases an average of word vectors cannot get right: negation ("the film was not good") and
 * contrast, where word order decides ("dull at first but wonderful" vs "wonderful at first but
 * dull" contain the same words with opposite labels).
 */
import { Generator } from '@kiln/tensor';
import { checkOptionKeys } from '../text/vocab.js';

export type SentimentKind = 'plain' | 'negated' | 'contrast';

export interface SentimentExample {
  tokens: string[];
  /** 1 = positive, 0 = negative. */
  label: 0 | 1;
  kind: SentimentKind;
}

export interface SentimentDataOptions {
  /** Number of sentences (default 2000). */
  n?: number;
  seed?: number;
  /** Shares of negated and contrast sentences (default 0.3 each; the rest are plain). */
  negatedShare?: number;
  contrastShare?: number;
  /** Words whose |valence| is at least this are used (default 2). */
  minStrength?: number;
  /** Only words passing this test are used (e.g. words that have a vector). */
  filter?: (word: string) => boolean;
}

const SUBJECTS = ['the film', 'the food', 'this book', 'my day', 'the service', 'the game', 'the trip', 'the show', 'our stay', 'the lecture'];
const VERBS = ['was', 'is', 'felt', 'seemed', 'looked'];
const ADVERBS = ['', '', 'very', 'really', 'so', 'quite'];

/** Splits a lexicon into positive and negative single words of enough strength. */
export function splitLexicon(lexicon: Readonly<Record<string, number>>, minStrength = 2, filter?: (w: string) => boolean): { positive: string[]; negative: string[] } {
  if (lexicon === null || typeof lexicon !== 'object') throw new Error(`Kiln: splitLexicon: lexicon must be an object of word → valence, got ${String(lexicon)}`);
  const positive: string[] = [], negative: string[] = [];
  for (const [w, v] of Object.entries(lexicon).sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`Kiln: splitLexicon: valence of ${JSON.stringify(w)} must be a finite number, got ${String(v)}`);
    if (!/^[a-z]+$/.test(w) || Math.abs(v) < minStrength || (filter && !filter(w))) continue;
    (v > 0 ? positive : negative).push(w);
  }
  return { positive, negative };
}

/** Generates `n` labelled sentences; the same options and seed always give the same data. */
export function makeSentimentData(lexicon: Readonly<Record<string, number>>, options: SentimentDataOptions = {}): SentimentExample[] {
  const op = 'makeSentimentData';
  checkOptionKeys(op, options, new Set(['n', 'seed', 'negatedShare', 'contrastShare', 'minStrength', 'filter']));
  const n = options.n ?? 2000, neg = options.negatedShare ?? 0.3, con = options.contrastShare ?? 0.3;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`Kiln: ${op}: n must be an integer >= 1, got ${String(options.n)}`);
  if (!(neg >= 0 && con >= 0 && neg + con <= 1)) throw new Error(`Kiln: ${op}: negatedShare and contrastShare must be >= 0 with a sum <= 1, got ${neg} and ${con}`);
  const { positive, negative } = splitLexicon(lexicon, options.minStrength ?? 2, options.filter);
  if (positive.length < 2 || negative.length < 2) {
    throw new Error(`Kiln: ${op}: the lexicon gives ${positive.length} positive and ${negative.length} negative words after filtering; need at least 2 of each`);
  }
  const g = new Generator(options.seed ?? 0);
  const pick = <T>(a: readonly T[]): T => a[g.randint(0, a.length)]!;
  const words = (s: string) => s.split(' ').filter((w) => w !== '');
  const out: SentimentExample[] = [];
  for (let i = 0; i < n; i++) {
    const u = g.random();
    const pos = g.random() < 0.5;
    const w = pick(pos ? positive : negative);
    const head = [...words(pick(SUBJECTS)), pick(VERBS)];
    if (u < neg) {
      out.push({ tokens: [...head, 'not', ...words(pick(ADVERBS)), w], label: pos ? 0 : 1, kind: 'negated' });
    } else if (u < neg + con) {
      const other = pick(pos ? negative : positive);
      // the clause after "but" decides: w comes last
      out.push({ tokens: [...head, other, 'at', 'first', 'but', ...words(pick(ADVERBS)), w], label: pos ? 1 : 0, kind: 'contrast' });
    } else {
      out.push({ tokens: [...head, ...words(pick(ADVERBS)), w], label: pos ? 1 : 0, kind: 'plain' });
    }
  }
  return out;
}
