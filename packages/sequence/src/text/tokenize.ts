import { checkOptions } from '@kiln/tensor';
import { writeFileAtomic } from '@kiln/nn';
import { DECODE_SPEC, ENCODE_SPEC, VOCAB_SPEC, Vocab, readJSON, type EncodeOptions, type VocabJSON, type VocabOptions } from './vocab.js';

/** Characters of `text` as code points (an emoji or a CJK character is one token). */
export function charTokenize(text: string): string[] {
  if (typeof text !== 'string') throw new Error(`Kiln: charTokenize: text must be a string, got ${typeof text}`);
  return Array.from(text);
}

// Decimal numbers first (3.5, 1,000), then words with inner apostrophes or hyphens (don't,
// well-known), then any other non-space character on its own (punctuation, symbols).
const WORD_RE = /\p{N}+(?:[.,]\p{N}+)+|[\p{L}\p{N}\p{M}]+(?:['’-][\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]/gu;

/** Words, numbers and single punctuation marks of `text`: `"Don't stop, 3.5 km!"` → `["Don't", "stop", ",", "3.5", "km", "!"]`. */
export function wordTokenize(text: string): string[] {
  if (typeof text !== 'string') throw new Error(`Kiln: wordTokenize: text must be a string, got ${typeof text}`);
  return text.match(WORD_RE) ?? [];
}

const NO_SPACE_BEFORE = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', '%', '…']);
const NO_SPACE_AFTER = new Set(['(', '[', '{']);

/** Joins word tokens with spaces, leaving none before closing punctuation or after opening brackets. */
export function detokenize(tokens: readonly string[]): string {
  let out = '';
  tokens.forEach((t, i) => {
    if (i > 0 && !NO_SPACE_BEFORE.has(t) && !NO_SPACE_AFTER.has(tokens[i - 1]!)) out += ' ';
    out += t;
  });
  return out;
}

// Abbreviations whose full stop does not end a sentence (compared lower-cased, without the stop).
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'etc', 'e.g', 'i.e', 'cf', 'al', 'approx', 'fig', 'no', 'vol',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'inc', 'ltd', 'co', 'corp', 'u.s', 'a.d', 'b.c',
]);

/**
 * Splits text into sentences at `.`, `!`, `?` (and runs of them, with closing quotes or brackets)
 * followed by white space and an upper-case letter, digit or opening quote — or by the end of
 * the text — and at blank lines. A full stop after a known abbreviation (`e.g.`, `Dr.`, `etc.`)
 * or a single initial (`J. Smith`) does not end a sentence. Sentences come back trimmed.
 */
export function splitSentences(text: string): string[] {
  if (typeof text !== 'string') throw new Error(`Kiln: splitSentences: text must be a string, got ${typeof text}`);
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    let start = 0;
    const re = /[.!?…]+['"’”)\]]*(?=\s+['"‘“(\[]?[\p{Lu}\p{N}]|\s*$)/gu;
    for (let m = re.exec(para); m !== null; m = re.exec(para)) {
      const end = m.index + m[0].length;
      if (m[0].startsWith('.') && m[0].length === 1) {
        const before = para.slice(start, m.index).match(/(\S+)$/)?.[1] ?? '';
        const word = before.replace(/^['"‘“(\[]+/, '').toLowerCase();
        if (ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word) || /^(\p{L}\.)+\p{L}$/u.test(word)) {
          if (end < para.trimEnd().length) continue;
        }
      }
      const s = para.slice(start, end).trim();
      if (s) out.push(s);
      start = end;
    }
    const rest = para.slice(start).trim();
    if (rest) out.push(rest);
  }
  return out;
}

export type TokenizerKind = 'char' | 'word';

export interface TokenizerOptions extends VocabOptions {
  /** Lower-case text before splitting it (default false). */
  lowercase?: boolean;
}

/** The JSON form of a tokenizer (`Tokenizer.save`). */
export interface TokenizerJSON {
  format: 'kiln-tokenizer';
  version: 1;
  kind: TokenizerKind;
  lowercase: boolean;
  vocab: VocabJSON;
}

const TOKENIZER_SPEC = { ...VOCAB_SPEC, lowercase: 'boolean' } as const;

/**
 * Text ↔ token ids: a splitter (characters or words) plus a `Vocab`. `Tokenizer.fit` builds the
 * vocabulary from a corpus with frequency and size cut-offs.
 */
export class Tokenizer {
  constructor(readonly kind: TokenizerKind, readonly vocab: Vocab, readonly lowercase = false) {
    if (kind !== 'char' && kind !== 'word') throw new Error(`Kiln: Tokenizer: kind must be 'char' or 'word', got ${JSON.stringify(kind)}`);
    if (!(vocab instanceof Vocab)) throw new Error('Kiln: Tokenizer: vocab must be a Vocab');
  }

  /** Builds a character or word tokenizer from `texts`. */
  static fit(kind: TokenizerKind, texts: Iterable<string>, options: TokenizerOptions = {}): Tokenizer {
    checkOptions(`Tokenizer.fit(${kind})`, options, TOKENIZER_SPEC);
    const { lowercase = false, ...vocabOptions } = options;
    if (typeof lowercase !== 'boolean') throw new Error(`Kiln: Tokenizer.fit: lowercase must be a boolean, got ${JSON.stringify(lowercase)}`);
    const split = kind === 'char' ? charTokenize : kind === 'word' ? wordTokenize : null;
    if (!split) throw new Error(`Kiln: Tokenizer.fit: kind must be 'char' or 'word', got ${JSON.stringify(kind)}`);
    const seqs = function* () { for (const t of texts) yield split(lowercase ? t.toLowerCase() : t); };
    return new Tokenizer(kind, Vocab.build(seqs(), vocabOptions), lowercase);
  }

  /** Tokens of `text` (before the vocabulary lookup). */
  tokenize(text: string): string[] {
    const t = this.lowercase ? text.toLowerCase() : text;
    return this.kind === 'char' ? charTokenize(t) : wordTokenize(t);
  }

  /** Token ids of `text`, optionally wrapped in `<bos>` … `<eos>`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new Error(`Kiln: Tokenizer.encode: text must be a string, got ${typeof text}`);
    checkOptions('Tokenizer.encode', options, ENCODE_SPEC);
    return this.vocab.encode(this.tokenize(text), options);
  }

  /** Text of `ids`: characters joined, or words joined with spaces; stops at `<eos>`, drops `<bos>`/`<pad>`. */
  decode(ids: ArrayLike<number> | Iterable<number>, options: { stripSpecials?: boolean } = {}): string {
    checkOptions('Tokenizer.decode', options, DECODE_SPEC);
    const tokens = this.vocab.decode(ids, options);
    return this.kind === 'char' ? tokens.join('') : detokenize(tokens);
  }

  toJSON(): TokenizerJSON {
    return { format: 'kiln-tokenizer', version: 1, kind: this.kind, lowercase: this.lowercase, vocab: this.vocab.toJSON() };
  }

  static fromJSON(json: unknown, source = 'JSON'): Tokenizer {
    const fail = (msg: string): never => { throw new Error(`Kiln: Tokenizer.fromJSON: ${source}: ${msg}`); };
    if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('expected an object');
    const o = json as Record<string, unknown>;
    if (o.format !== 'kiln-tokenizer') fail(`format must be 'kiln-tokenizer', got ${JSON.stringify(o.format)}`);
    if (o.version !== 1) fail(`unsupported version ${JSON.stringify(o.version)} (this Kiln reads version 1)`);
    if (o.kind !== 'char' && o.kind !== 'word') fail(`kind must be 'char' or 'word', got ${JSON.stringify(o.kind)}`);
    if (typeof o.lowercase !== 'boolean') fail(`lowercase must be a boolean, got ${JSON.stringify(o.lowercase)}`);
    return new Tokenizer(o.kind as TokenizerKind, Vocab.fromJSON(o.vocab, `${source} (vocab)`), o.lowercase as boolean);
  }

  /** Writes the tokenizer as JSON (atomically). */
  async save(path: string): Promise<void> {
    await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(this.toJSON())), 'Tokenizer.save');
  }

  /** Reads a tokenizer written by `save`, validating every field. */
  static async load(path: string): Promise<Tokenizer> {
    return Tokenizer.fromJSON(await readJSON(path, 'Tokenizer.load'), path);
  }
}
