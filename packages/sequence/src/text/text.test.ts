import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vocab, Tokenizer, charTokenize, wordTokenize, detokenize, splitSentences, parseWordnetData } from '../index.js';
import { loadEnglishWords, loadNames, loadWordnet } from '../../demo/corpora.js';

describe('Vocab', () => {
  it('puts the specials first, then tokens by falling frequency (ties in code-point order)', () => {
    const v = Vocab.build([['b', 'a', 'c', 'a'], ['c', 'a', 'd']]);
    expect(v.tokens).toEqual(['<pad>', '<unk>', '<bos>', '<eos>', 'a', 'c', 'b', 'd']);
    expect([v.padId, v.unkId, v.bosId, v.eosId]).toEqual([0, 1, 2, 3]);
    expect(v.encode(['a', 'd', 'zz'], { bos: true, eos: true })).toEqual([2, 4, 7, 1, 3]);
    expect(v.decode([2, 4, 7, 1, 3, 5])).toEqual(['a', 'd', '<unk>']); // stops at <eos>, drops <bos>
    expect(v.decode([2, 4, 0, 3, 5], { stripSpecials: false })).toEqual(['<bos>', 'a', '<pad>', '<eos>', 'c']);
  });

  it('applies minFreq and maxSize cut-offs; unknown tokens map to <unk>', () => {
    const counts = { the: 10, cat: 3, sat: 3, on: 2, mat: 1 };
    expect(Vocab.fromCounts(counts, { minFreq: 2 }).tokens.slice(4)).toEqual(['the', 'cat', 'sat', 'on']);
    const small = Vocab.fromCounts(counts, { maxSize: 6 });
    expect(small.size).toBe(6);
    expect(small.tokens.slice(4)).toEqual(['the', 'cat']);
    expect(small.encode(['sat', 'mat'])).toEqual([1, 1]);
    // counts from a Map give the same vocabulary
    expect(Vocab.fromCounts(new Map(Object.entries(counts)), { maxSize: 6 }).tokens).toEqual(small.tokens);
  });

  it('custom specials; unk null makes unknown tokens an error', () => {
    const v = Vocab.build(['abc'], { specials: ['<pad>', '<eos>'], unk: null });
    expect(v.tokens).toEqual(['<pad>', '<eos>', 'a', 'b', 'c']);
    expect(() => v.encode(['z'])).toThrow(/Vocab.indexOf: token "z" is not in the vocabulary of 5 tokens and there is no unk token/);
    expect(() => v.bosId).toThrow(/no special token "<bos>" \(specials: \[<pad>, <eos>\]\)/);
  });

  it('rejects out-of-range and non-integer ids, bad options', () => {
    const v = Vocab.build(['ab']);
    expect(() => v.decode([4, 6])).toThrow('Kiln: Vocab.decode: token id 6 at position 1 out of range for a vocabulary of 6 tokens');
    expect(() => v.decode([-1])).toThrow(/token id -1 at position 0 out of range/);
    expect(() => v.decode([1.5])).toThrow(/token id 1.5/);
    expect(() => v.tokenOf(99)).toThrow(/Vocab.tokenOf: token id 99 out of range for a vocabulary of 6 tokens/);
    expect(() => Vocab.build(['ab'], { minFreq: 0 })).toThrow(/minFreq must be an integer >= 1, got 0/);
    expect(() => Vocab.build(['ab'], { maxSize: 2 })).toThrow(/maxSize must be an integer >= the 4 specials, got 2/);
    expect(() => Vocab.build(['ab'], { minFreqs: 2 } as never)).toThrow(/unknown option 'minFreqs'/);
    expect(() => Vocab.build(['ab'], { unk: '<oov>' })).toThrow(/unk "<oov>" must be one of the specials/);
    expect(() => new Vocab(['a', 'b', 'a'])).toThrow(/token "a" appears twice \(ids 0 and 2\)/);
  });

  it('saves and loads as JSON atomically, validating what it reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-vocab-'));
    try {
      const v = Vocab.build([wordTokenize('the cat sat on the mat')], { minFreq: 1 });
      const path = join(dir, 'vocab.json');
      await v.save(path);
      expect(await readdir(dir)).toEqual(['vocab.json']); // no temp file left
      const back = await Vocab.load(path);
      expect(back.tokens).toEqual(v.tokens);
      expect(back.unk).toBe('<unk>');
      expect(back.encode(['the', 'dog'])).toEqual(v.encode(['the', 'dog']));
      const bad = async (content: string, msg: RegExp) => {
        await writeFile(join(dir, 'bad.json'), content);
        await expect(Vocab.load(join(dir, 'bad.json'))).rejects.toThrow(msg);
      };
      await bad('{"format":"kiln-vocab","version":1', /Vocab.load: .*bad.json is not valid JSON/);
      await bad('[1,2]', /Vocab.fromJSON: .*bad.json: expected an object, got an array/);
      await bad('{"format":"other","version":1,"tokens":[],"specials":[],"unk":null}', /format must be 'kiln-vocab', got "other"/);
      await bad('{"format":"kiln-vocab","version":2,"tokens":[],"specials":[],"unk":null}', /unsupported version 2/);
      await bad('{"format":"kiln-vocab","version":1,"tokens":["a",3],"specials":[],"unk":null}', /tokens must be an array of strings/);
      await bad('{"format":"kiln-vocab","version":1,"tokens":["a"],"specials":["<pad>"],"unk":null}', /special token "<pad>" is not in the vocabulary/);
      await expect(Vocab.load(join(dir, 'missing.json'))).rejects.toThrow(/Vocab.load: could not read .*missing.json/);
      // a directory in the way: the write fails with the caller's name and leaves nothing behind
      await mkdir(join(dir, 'taken'));
      await expect(v.save(join(dir, 'taken'))).rejects.toThrow(/Vocab.save: could not write/);
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tokenizers', () => {
  it('characters are code points', () => {
    expect(charTokenize('Mr. Mime')).toEqual(['M', 'r', '.', ' ', 'M', 'i', 'm', 'e']);
    expect(charTokenize('Flabébé♀')).toHaveLength(8);
    expect(charTokenize('a😀b')).toEqual(['a', '😀', 'b']);
  });

  it('words keep contractions, hyphens and decimals; punctuation stands alone', () => {
    expect(wordTokenize("Don't stop, it's 3.5 km (well-known)!")).toEqual(["Don't", 'stop', ',', "it's", '3.5', 'km', '(', 'well-known', ')', '!']);
    expect(wordTokenize('  ')).toEqual([]);
    expect(detokenize(['a', 'cat', '(', 'small', ')', ',', 'sat', '.'])).toBe('a cat (small), sat.');
  });

  it('char tokenizer round-trips names; word tokenizer maps rare words to <unk>', () => {
    const names = loadNames('pokemon').slice(0, 200);
    const chars = Tokenizer.fit('char', names, { lowercase: true });
    expect(chars.vocab.has('a')).toBe(true);
    expect(chars.vocab.has('A')).toBe(false);
    for (const n of names.slice(0, 50)) expect(chars.decode(chars.encode(n, { bos: true, eos: true }))).toBe(n.toLowerCase());
    const words = Tokenizer.fit('word', ['the cat sat on the mat.', 'the dog sat.'], { minFreq: 2 });
    expect(words.vocab.tokens.slice(4)).toEqual(['the', '.', 'sat']);
    expect(words.decode(words.encode('the cat sat.'))).toBe('the <unk> sat.');
    expect(() => Tokenizer.fit('byte' as never, ['x'])).toThrow(/kind must be 'char' or 'word', got "byte"/);
    expect(() => Tokenizer.fit('char', ['x'], { lower: true } as never)).toThrow(/unknown option 'lower'/);
  });

  it('tokenizers save and load (kind, lowercase and vocabulary)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-tok-'));
    try {
      const t = Tokenizer.fit('char', loadNames('dog-names').slice(0, 100), { lowercase: true, maxSize: 20 });
      await t.save(join(dir, 't.json'));
      const back = await Tokenizer.load(join(dir, 't.json'));
      expect(back.kind).toBe('char');
      expect(back.lowercase).toBe(true);
      expect(back.encode('Bella Luna')).toEqual(t.encode('Bella Luna'));
      const json = JSON.parse(await readFile(join(dir, 't.json'), 'utf8'));
      json.kind = 'bpe';
      await writeFile(join(dir, 't.json'), JSON.stringify(json));
      await expect(Tokenizer.load(join(dir, 't.json'))).rejects.toThrow(/Tokenizer.fromJSON: .*t.json: kind must be 'char' or 'word', got "bpe"/);
      json.kind = 'char';
      json.vocab.version = 7;
      await writeFile(join(dir, 't.json'), JSON.stringify(json));
      await expect(Tokenizer.load(join(dir, 't.json'))).rejects.toThrow(/t.json \(vocab\): unsupported version 7/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('splitSentences', () => {
  it('splits at sentence ends, not at abbreviations, initials or decimals', () => {
    const text = 'Dr. Smith arrived at 3.30 p.m. on Monday. He met J. R. Jones, e.g. the mayor! Was it late? "Yes," she said.\n\nA new paragraph';
    expect(splitSentences(text)).toEqual([
      'Dr. Smith arrived at 3.30 p.m. on Monday.',
      'He met J. R. Jones, e.g. the mayor!',
      'Was it late?',
      '"Yes," she said.',
      'A new paragraph',
    ]);
    expect(splitSentences('One. Two... Three?! (Four.) 5 is a number.')).toEqual(['One.', 'Two...', 'Three?!', '(Four.)', '5 is a number.']);
    expect(splitSentences('')).toEqual([]);
  });
});

describe('corpora (npm packages, dev only)', () => {
  it('name lists, English words and WordNet glosses load', () => {
    expect(loadNames('pokemon')).toHaveLength(1025);
    expect(loadNames('pokemon')[0]).toBe('Bulbasaur');
    expect(loadNames('dog-names')).toHaveLength(200);
    expect(loadNames('superheroes')).toHaveLength(1825);
    expect(loadEnglishWords().length).toBe(274937);
    const adv = loadWordnet('adv', 5);
    expect(adv).toHaveLength(5);
    expect(adv[0]).toMatchObject({ pos: 'r', lemmas: ['a cappella', 'a capella'], definition: 'without musical accompaniment', examples: ['they performed a cappella'] });
    expect(() => loadNames('cats' as never)).toThrow(/list must be 'pokemon', 'dog-names' or 'superheroes'/);
  });

  it('parseWordnetData reads synset lines and rejects other text', () => {
    const line = '00006024 03 n 02 heterotroph 0 eater(p) 0 001 @ 00004475 n 0000 | an organism that depends on organic matter; "a heterotroph"; "second example"  ';
    expect(parseWordnetData(`  1 This software and database\n${line}\n`)).toEqual([
      { offset: 6024, pos: 'n', lemmas: ['heterotroph', 'eater'], definition: 'an organism that depends on organic matter', examples: ['a heterotroph', 'second example'] },
    ]);
    expect(() => parseWordnetData('hello world\n')).toThrow(/parseWordnetData: line 1 is not a WordNet synset line: "hello world"/);
  });
});
