import { checkOptions, type OptionKind } from '@kiln/tensor';
import { writeFileAtomic } from '@kiln/nn';

/** The special tokens every Kiln vocabulary starts with unless told otherwise (ids 0, 1, 2, 3). */
export const PAD = '<pad>';
export const UNK = '<unk>';
export const BOS = '<bos>';
export const EOS = '<eos>';
export const DEFAULT_SPECIALS: readonly string[] = [PAD, UNK, BOS, EOS];

export interface VocabOptions {
  /** Tokens seen fewer times than this are left out (mapped to `<unk>`); default 1. */
  minFreq?: number;
  /** At most this many entries in all, specials included; the most frequent tokens are kept. */
  maxSize?: number;
  /** Special tokens, placed first in this order; default `['<pad>', '<unk>', '<bos>', '<eos>']`. */
  specials?: readonly string[];
  /** The token unknown tokens map to; must be one of the specials; `null` makes unknown tokens an error. Default `'<unk>'` when it is a special. */
  unk?: string | null;
}

export interface EncodeOptions {
  /** Prepend `<bos>` (default false). */
  bos?: boolean;
  /** Append `<eos>` (default false). */
  eos?: boolean;
}

/** The JSON form of a vocabulary (`Vocab.toJSON`, `Vocab.save`). */
export interface VocabJSON {
  format: 'kiln-vocab';
  version: 1;
  tokens: string[];
  specials: string[];
  unk: string | null;
}

const stringOrNull: OptionKind = (v) => (v === null || typeof v === 'string' ? null : 'a string or null');

/** Kinds of the vocabulary options (checked with @kiln/tensor's shared checkOptions; ranges are checked where used). */
export const VOCAB_SPEC: Readonly<Record<string, OptionKind>> = { minFreq: 'number', maxSize: 'number', specials: 'names', unk: stringOrNull };
export const ENCODE_SPEC: Readonly<Record<string, OptionKind>> = { bos: 'boolean', eos: 'boolean' };
export const DECODE_SPEC: Readonly<Record<string, OptionKind>> = { stripSpecials: 'boolean' };

/**
 * Validates an options object's keys only (a plain object with only `allowed` keys), through the
 * shared checkOptions; prefer checkOptions with kinds, which also checks the values' types.
 */
export function checkOptionKeys(op: string, options: unknown, allowed: ReadonlySet<string>): void {
  checkOptions(op, options, Object.fromEntries([...allowed].map((k) => [k, (() => null) as OptionKind])));
}

/**
 * A token ↔ id table: the specials first (`<pad>` = 0, `<unk>` = 1, `<bos>` = 2, `<eos>` = 3 by
 * default), then the tokens by falling frequency (ties in code-point order, so the same counts
 * always give the same ids).
 */
export class Vocab {
  private readonly ids = new Map<string, number>();
  readonly tokens: readonly string[];
  readonly specials: readonly string[];
  /** The token unknown tokens map to, or null when unknown tokens are an error. */
  readonly unk: string | null;

  /** A vocabulary of exactly these tokens in this order; `specials` must be among them. */
  constructor(tokens: readonly string[], options: { specials?: readonly string[]; unk?: string | null } = {}) {
    const op = 'Vocab';
    checkOptions(op, options, { specials: VOCAB_SPEC.specials!, unk: stringOrNull });
    if (!Array.isArray(tokens)) throw new Error(`Kiln: ${op}: tokens must be an array of strings, got ${typeof tokens}`);
    tokens.forEach((t, i) => {
      if (typeof t !== 'string' || t === '') throw new Error(`Kiln: ${op}: token ${i} must be a non-empty string, got ${JSON.stringify(t)}`);
      if (this.ids.has(t)) throw new Error(`Kiln: ${op}: token ${JSON.stringify(t)} appears twice (ids ${this.ids.get(t)} and ${i})`);
      this.ids.set(t, i);
    });
    const specials = options.specials ?? DEFAULT_SPECIALS.filter((s) => this.ids.has(s));
    for (const s of specials) if (!this.ids.has(s)) throw new Error(`Kiln: ${op}: special token ${JSON.stringify(s)} is not in the vocabulary`);
    const unk = options.unk === undefined ? (specials.includes(UNK) ? UNK : null) : options.unk;
    if (unk !== null && !specials.includes(unk)) throw new Error(`Kiln: ${op}: unk ${JSON.stringify(unk)} must be one of the specials [${specials.join(', ')}]`);
    this.tokens = [...tokens];
    this.specials = [...specials];
    this.unk = unk;
  }

  /** Counts the tokens of `sequences` and keeps those passing the frequency and size cut-offs. */
  static build(sequences: Iterable<Iterable<string>>, options: VocabOptions = {}): Vocab {
    const counts = new Map<string, number>();
    for (const seq of sequences) for (const t of seq) counts.set(t, (counts.get(t) ?? 0) + 1);
    return Vocab.fromCounts(counts, options);
  }

  /** A vocabulary from token counts (a Map or a plain object). */
  static fromCounts(counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>, options: VocabOptions = {}): Vocab {
    const op = 'Vocab.fromCounts';
    checkOptions(op, options, VOCAB_SPEC);
    const specials = options.specials ?? DEFAULT_SPECIALS;
    if (!Array.isArray(specials) || specials.some((s) => typeof s !== 'string' || s === '')) throw new Error(`Kiln: ${op}: specials must be an array of non-empty strings, got ${JSON.stringify(specials)}`);
    const minFreq = options.minFreq ?? 1;
    if (!(Number.isInteger(minFreq) && minFreq >= 1)) throw new Error(`Kiln: ${op}: minFreq must be an integer >= 1, got ${String(options.minFreq)}`);
    const maxSize = options.maxSize ?? Infinity;
    if (!(maxSize === Infinity || (Number.isInteger(maxSize) && maxSize >= specials.length))) {
      throw new Error(`Kiln: ${op}: maxSize must be an integer >= the ${specials.length} specials, got ${String(options.maxSize)}`);
    }
    const entries = counts instanceof Map ? [...counts.entries()] : Object.entries(counts);
    const special = new Set(specials);
    const kept = entries
      .filter(([t, c]) => {
        if (!(Number.isFinite(c) && c >= 0)) throw new Error(`Kiln: ${op}: count of ${JSON.stringify(t)} must be a number >= 0, got ${String(c)}`);
        return !special.has(t) && t !== '' && c >= minFreq;
      })
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, maxSize - specials.length)
      .map(([t]) => t);
    const unk = options.unk === undefined ? (specials.includes(UNK) ? UNK : null) : options.unk;
    return new Vocab([...specials, ...kept], { specials, unk });
  }

  get size(): number { return this.tokens.length; }

  has(token: string): boolean { return this.ids.has(token); }

  /** The id of `token`; unknown tokens give the `unk` id, or an error without one. */
  indexOf(token: string): number {
    const id = this.ids.get(token);
    if (id !== undefined) return id;
    if (this.unk === null) throw new Error(`Kiln: Vocab.indexOf: token ${JSON.stringify(token)} is not in the vocabulary of ${this.size} tokens and there is no unk token`);
    return this.ids.get(this.unk)!;
  }

  /** The id of a special token; an error naming the specials when it is missing. */
  specialId(token: string): number {
    const id = this.ids.get(token);
    if (id === undefined || !this.specials.includes(token)) throw new Error(`Kiln: Vocab: no special token ${JSON.stringify(token)} (specials: [${this.specials.join(', ')}])`);
    return id;
  }

  get padId(): number { return this.specialId(PAD); }
  get unkId(): number { return this.specialId(UNK); }
  get bosId(): number { return this.specialId(BOS); }
  get eosId(): number { return this.specialId(EOS); }

  isSpecial(id: number): boolean { return this.specials.includes(this.tokenOf(id)); }

  /** The token of `id`; an error when the id is not an integer in [0, size). */
  tokenOf(id: number, op = 'Vocab.tokenOf'): string {
    if (!(Number.isInteger(id) && id >= 0 && id < this.tokens.length)) throw new Error(`Kiln: ${op}: token id ${id} out of range for a vocabulary of ${this.size} tokens`);
    return this.tokens[id]!;
  }

  /** Token ids of `tokens`, optionally wrapped in `<bos>` … `<eos>`. */
  encode(tokens: Iterable<string>, options: EncodeOptions = {}): number[] {
    checkOptions('Vocab.encode', options, ENCODE_SPEC);
    const out: number[] = [];
    if (options.bos) out.push(this.bosId);
    for (const t of tokens) out.push(this.indexOf(t));
    if (options.eos) out.push(this.eosId);
    return out;
  }

  /**
   * Tokens of `ids` (numbers or an int32 array). Decoding stops at the first `<eos>` and drops
   * `<bos>`/`<pad>` when `stripSpecials` (default true); out-of-range ids are an error naming the position.
   */
  decode(ids: ArrayLike<number> | Iterable<number>, options: { stripSpecials?: boolean } = {}): string[] {
    checkOptions('Vocab.decode', options, DECODE_SPEC);
    const strip = options.stripSpecials ?? true;
    const out: string[] = [];
    const arr = Array.from(ids as ArrayLike<number>);
    const eos = this.ids.get(EOS), bos = this.ids.get(BOS), pad = this.ids.get(PAD);
    for (let i = 0; i < arr.length; i++) {
      const id = arr[i]!;
      if (!(Number.isInteger(id) && id >= 0 && id < this.tokens.length)) {
        throw new Error(`Kiln: Vocab.decode: token id ${id} at position ${i} out of range for a vocabulary of ${this.size} tokens`);
      }
      if (strip) {
        if (id === eos) break;
        if (id === bos || id === pad) continue;
      }
      out.push(this.tokens[id]!);
    }
    return out;
  }

  toJSON(): VocabJSON {
    return { format: 'kiln-vocab', version: 1, tokens: [...this.tokens], specials: [...this.specials], unk: this.unk };
  }

  /** Rebuilds a vocabulary from `toJSON`'s object, checking every field. */
  static fromJSON(json: unknown, source = 'JSON'): Vocab {
    const fail = (msg: string): never => { throw new Error(`Kiln: Vocab.fromJSON: ${source}: ${msg}`); };
    if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(`expected an object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
    const o = json as Record<string, unknown>;
    if (o.format !== 'kiln-vocab') fail(`format must be 'kiln-vocab', got ${JSON.stringify(o.format)}`);
    if (o.version !== 1) fail(`unsupported version ${JSON.stringify(o.version)} (this Kiln reads version 1)`);
    if (!Array.isArray(o.tokens) || o.tokens.some((t) => typeof t !== 'string')) fail('tokens must be an array of strings');
    if (!Array.isArray(o.specials) || o.specials.some((t) => typeof t !== 'string')) fail('specials must be an array of strings');
    if (o.unk !== null && typeof o.unk !== 'string') fail(`unk must be a string or null, got ${JSON.stringify(o.unk)}`);
    try {
      return new Vocab(o.tokens as string[], { specials: o.specials as string[], unk: o.unk as string | null });
    } catch (e) {
      return fail((e as Error).message.replace(/^Kiln: Vocab: /, ''));
    }
  }

  /** Writes the vocabulary as JSON (atomically: a temp file renamed into place). */
  async save(path: string): Promise<void> {
    await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(this.toJSON())), 'Vocab.save');
  }

  /** Reads a vocabulary written by `save`, with errors naming the file and the bad field. */
  static async load(path: string): Promise<Vocab> {
    return Vocab.fromJSON(await readJSON(path, 'Vocab.load'), path);
  }
}

/** Reads and parses a JSON file, errors naming `op` and the path. */
export async function readJSON(path: string, op: string): Promise<unknown> {
  const fs = await import('node:fs/promises');
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`Kiln: ${op}: could not read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`Kiln: ${op}: ${path} is not valid JSON: ${(e as Error).message}`);
  }
}
