import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  WordVectors, loadBinaryVectors, loadTextVectors, loadWordVectors, saveBinaryVectors, saveTextVectors, saveWordVectors,
} from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-wv-'));
const words = ['<unk>', 'the', 'cat', 'naïve', '猫'];
const wv = new WordVectors(words, Float32Array.from({ length: 5 * 4 }, (_, i) => Math.fround(Math.sin(i) * 3)), 4);

function expectSame(a: WordVectors, b: WordVectors) {
  expect(a.words).toEqual(b.words);
  expect(a.dim).toBe(b.dim);
  expect(Array.from(a.vectors)).toEqual(Array.from(b.vectors));
}

describe('word-vector files', () => {
  it('text round trip, with and without the word2vec header (values exact: shortest float32 strings)', async () => {
    for (const header of [false, true]) {
      const p = join(dir, `v${header}.txt`);
      await saveTextVectors(wv, p, { header });
      expect(readFileSync(p, 'utf8').startsWith('5 4\n')).toBe(header);
      const back = await loadTextVectors(p);
      expectSame(back, wv);
      expect(back.unk).toBe('<unk>');
    }
  });

  it('text: streams a large file (20 000 lines) and honours limit', async () => {
    const p = join(dir, 'big.txt');
    const lines: string[] = [];
    for (let i = 0; i < 20000; i++) lines.push(`w${i} ${i % 7} ${-i / 4} 0.5`);
    writeFileSync(p, lines.join('\n') + '\n');
    const all = await loadTextVectors(p);
    expect(all.size).toBe(20000);
    expect(Array.from(all.vector('w19999'))).toEqual([19999 % 7, -19999 / 4, 0.5]);
    expect((await loadTextVectors(p, { limit: 10 })).size).toBe(10);
  });

  it('text: inconsistent dimensions, bad numbers, a wrong header count → errors naming the line', async () => {
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'a 1 2 3\nb 4 5 6\nc 7 8\n');
    await expect(loadTextVectors(bad)).rejects.toThrow(/bad.txt line 3: word "c" has 2 values, expected 3 \(from line 1\)/);
    writeFileSync(bad, '2 3\na 1 2 3\nb 4 x 6\n');
    await expect(loadTextVectors(bad)).rejects.toThrow(/line 3: value 2 of word "b" is not a finite number: "x"/);
    writeFileSync(bad, '3 3\na 1 2 3\nb 4 5 6\n');
    await expect(loadTextVectors(bad)).rejects.toThrow(/header declares 3 words but the file has 2/);
    writeFileSync(bad, '2 3\na 1 2 3 4\n');
    await expect(loadTextVectors(bad)).rejects.toThrow(/line 2: word "a" has 4 values, expected 3 \(from the header\)/);
    writeFileSync(bad, '');
    await expect(loadTextVectors(bad)).rejects.toThrow(/has no word vectors/);
    await expect(loadTextVectors(join(dir, 'missing.txt'))).rejects.toThrow(/Kiln: loadTextVectors: could not read/);
  });

  it('binary round trip, and a truncated or padded file → errors with the byte offset', async () => {
    const p = join(dir, 'v.bin');
    await saveBinaryVectors(wv, p);
    expectSame(await loadBinaryVectors(p), wv);
    const bytes = readFileSync(p);
    // header "5 4\n" = 4 bytes; "<unk> " = 6 bytes; vector 16 bytes + "\n"
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
    await expect(loadBinaryVectors(cut)).rejects.toThrow(/cut.bin byte \d+: the file ends inside the vector of word 5 of 5 \("猫"\): needs 16 bytes, \d+ left \(truncated\)/);
    writeFileSync(cut, bytes.subarray(0, 4 + 3));
    await expect(loadBinaryVectors(cut)).rejects.toThrow(/byte 4: the file ends inside word 1 of 5/);
    writeFileSync(cut, Buffer.concat([bytes, Buffer.from('junk')]));
    await expect(loadBinaryVectors(cut)).rejects.toThrow(/byte \d+: 4 bytes follow the 5 words/);
    writeFileSync(cut, Buffer.from('not a header at all\n'));
    await expect(loadBinaryVectors(cut)).rejects.toThrow(/byte 0: expected a 'count dim' header/);
  });

  it('safetensors + vocabulary JSON round trip; mismatched files are errors', async () => {
    const stem = join(dir, 'model');
    const paths = await saveWordVectors(wv, stem);
    expectSame(await loadWordVectors(stem), wv);
    const json = JSON.parse(readFileSync(paths.vocab, 'utf8'));
    json.words.pop();
    writeFileSync(paths.vocab, JSON.stringify(json));
    await expect(loadWordVectors(stem)).rejects.toThrow(/holds vectors of shape \[5,4\] but .* lists 4 words/);
  });

  it('words with spaces cannot be written', async () => {
    const w = new WordVectors(['a b', 'c'], [1, 2], 1);
    await expect(saveTextVectors(w, join(dir, 'x.txt'))).rejects.toThrow(/word "a b" contains white space/);
  });
});
