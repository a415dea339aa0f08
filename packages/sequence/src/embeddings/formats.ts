/**
 * Word-vector files: the GloVe/word2vec text format (one `word v1 … vD` line per word, with or
 * without word2vec's `count dim` header line), word2vec's binary format (`count dim\n`, then per word
 * `word ` followed by dim little-endian float32 and an optional `\n`), and Kiln's own pair of a
 * safetensors file and a vocabulary JSON. Every malformed file is an error naming the file and the
 * line or byte offset.
 */
import { loadSafetensors, saveSafetensors, writeFileAtomic } from '@kiln/nn';
import { Tensor } from '@kiln/tensor';
import { WordVectors } from './word-vectors.js';
import { checkOptionKeys, readJSON } from '../text/vocab.js';

export interface LoadTextOptions {
  /** Whether the first line is a `count dim` header: true, false or 'auto' (default: a line of two integers). */
  header?: boolean | 'auto';
  /** Keep only the first `limit` words (files are usually sorted by frequency). */
  limit?: number;
  /** The unk word, when the file has one (default '<unk>' if present). */
  unk?: string | null;
}

/** Grows a float32 buffer as rows arrive (the row count of a header-less file is unknown in advance). */
class RowBuffer {
  data: Float32Array;
  rows = 0;
  constructor(readonly dim: number, capacity: number) { this.data = new Float32Array(Math.max(1, capacity) * dim); }
  push(values: ArrayLike<number>): void {
    if ((this.rows + 1) * this.dim > this.data.length) {
      const next = new Float32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data.set(values, this.rows * this.dim);
    this.rows++;
  }
  take(): Float32Array { return this.data.slice(0, this.rows * this.dim); }
}

/** Reads a GloVe or word2vec text file line by line (streamed; files of millions of lines are fine). */
export async function loadTextVectors(path: string, options: LoadTextOptions = {}): Promise<WordVectors> {
  const op = 'loadTextVectors';
  checkOptionKeys(op, options, new Set(['header', 'limit', 'unk']));
  const header = options.header ?? 'auto', limit = options.limit ?? Infinity;
  if (!(header === true || header === false || header === 'auto')) throw new Error(`Kiln: ${op}: header must be true, false or 'auto', got ${JSON.stringify(header)}`);
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 1))) throw new Error(`Kiln: ${op}: limit must be an integer >= 1, got ${String(options.limit)}`);
  const { createReadStream } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const fail = (lineNo: number, msg: string): never => { throw new Error(`Kiln: ${op}: ${path} line ${lineNo}: ${msg}`); };
  const words: string[] = [];
  const seen = new Map<string, number>();
  let buf: RowBuffer | null = null;
  let declared: { count: number; dim: number } | null = null;
  let lineNo = 0;
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = raw.replace(/\s+$/, '');
      if (lineNo === 1 && header !== false) {
        const m = /^(\d+) (\d+)$/.exec(line.trim());
        if (m) {
          declared = { count: Number(m[1]), dim: Number(m[2]) };
          if (declared.dim < 1) fail(1, `header declares dimension ${declared.dim}`);
          buf = new RowBuffer(declared.dim, Math.min(declared.count, limit));
          continue;
        }
        if (header === true) fail(1, `expected a 'count dim' header, got ${JSON.stringify(line.slice(0, 60))}`);
      }
      if (line === '') continue;
      const parts = line.split(' ');
      const word = parts[0]!;
      if (word === '') fail(lineNo, 'the line starts with a space (no word)');
      const dim = parts.length - 1;
      if (dim < 1) fail(lineNo, `word ${JSON.stringify(word)} has no values`);
      if (!buf) buf = new RowBuffer(dim, 1024);
      if (dim !== buf.dim) fail(lineNo, `word ${JSON.stringify(word)} has ${dim} values, expected ${buf.dim} (${declared ? 'from the header' : 'from line 1'})`);
      const row = new Float32Array(dim);
      for (let j = 0; j < dim; j++) {
        const v = Number(parts[j + 1]);
        if (parts[j + 1] === '' || !Number.isFinite(v)) fail(lineNo, `value ${j + 1} of word ${JSON.stringify(word)} is not a finite number: ${JSON.stringify(parts[j + 1])}`);
        row[j] = v;
      }
      if (seen.has(word)) fail(lineNo, `word ${JSON.stringify(word)} appears again (first on line ${seen.get(word)})`);
      seen.set(word, lineNo);
      words.push(word);
      buf.push(row);
      if (words.length >= limit) break;
    }
  } catch (e) {
    if ((e as Error).message.startsWith('Kiln:')) throw e;
    throw new Error(`Kiln: ${op}: could not read ${path}: ${(e as Error).message}`);
  } finally {
    lines.close();
    stream.destroy();
  }
  if (!buf || words.length === 0) throw new Error(`Kiln: ${op}: ${path} has no word vectors`);
  if (declared && limit === Infinity && words.length !== declared.count) {
    throw new Error(`Kiln: ${op}: ${path}: the header declares ${declared.count} words but the file has ${words.length} (ends at line ${lineNo})`);
  }
  return new WordVectors(words, buf.take(), buf.dim, options.unk === undefined ? {} : { unk: options.unk });
}

function checkSavable(op: string, wv: WordVectors): void {
  if (!(wv instanceof WordVectors)) throw new Error(`Kiln: ${op}: expects WordVectors, got ${typeof wv}`);
  for (const w of wv.words) if (/\s/.test(w)) throw new Error(`Kiln: ${op}: word ${JSON.stringify(w)} contains white space, which the format cannot hold`);
}

/** Writes the text format (atomically); `header` adds word2vec's `count dim` line (default false, GloVe style). */
export async function saveTextVectors(wv: WordVectors, path: string, options: { header?: boolean } = {}): Promise<void> {
  const op = 'saveTextVectors';
  checkOptionKeys(op, options, new Set(['header']));
  checkSavable(op, wv);
  const enc = new TextEncoder(), chunks: Uint8Array[] = [];
  if (options.header) chunks.push(enc.encode(`${wv.size} ${wv.dim}\n`));
  const d = wv.dim;
  let part: string[] = [];
  for (let r = 0; r < wv.size; r++) {
    const vals = Array.from(wv.vectors.subarray(r * d, (r + 1) * d), (v) => String(v));
    part.push(`${wv.words[r]} ${vals.join(' ')}\n`);
    if (part.length === 4096) { chunks.push(enc.encode(part.join(''))); part = []; }
  }
  chunks.push(enc.encode(part.join('')));
  await writeFileAtomic(path, concat(chunks), op);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

/** Writes word2vec's binary format (atomically): `count dim\n`, then `word ` + dim float32 LE + `\n` per word. */
export async function saveBinaryVectors(wv: WordVectors, path: string): Promise<void> {
  const op = 'saveBinaryVectors';
  checkSavable(op, wv);
  const enc = new TextEncoder(), chunks: Uint8Array[] = [enc.encode(`${wv.size} ${wv.dim}\n`)];
  const d = wv.dim;
  for (let r = 0; r < wv.size; r++) {
    chunks.push(enc.encode(`${wv.words[r]} `));
    const row = new Uint8Array(d * 4 + 1), view = new DataView(row.buffer);
    for (let j = 0; j < d; j++) view.setFloat32(j * 4, wv.vectors[r * d + j]!, true);
    row[d * 4] = 10;
    chunks.push(row);
  }
  await writeFileAtomic(path, concat(chunks), op);
}

/** Parses word2vec binary bytes; `source` names the file in errors, which give byte offsets. */
export function parseBinaryVectors(bytes: Uint8Array, source = 'bytes', options: { unk?: string | null } = {}): WordVectors {
  const op = 'loadBinaryVectors';
  const fail = (offset: number, msg: string): never => { throw new Error(`Kiln: ${op}: ${source} byte ${offset}: ${msg}`); };
  const dec = new TextDecoder('utf-8', { fatal: true });
  const nl = bytes.indexOf(10);
  if (nl < 0 || nl > 64) fail(0, `expected a 'count dim' header line, got ${JSON.stringify(dec.decode(bytes.subarray(0, Math.min(40, bytes.length))))}`);
  const m = /^\s*(\d+) (\d+)\s*$/.exec(dec.decode(bytes.subarray(0, nl)));
  if (!m) fail(0, `expected a 'count dim' header line, got ${JSON.stringify(dec.decode(bytes.subarray(0, nl)))}`);
  const count = Number(m![1]), dim = Number(m![2]);
  if (count < 1 || dim < 1) fail(0, `header declares ${count} words of dimension ${dim}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words: string[] = [], data = new Float32Array(count * dim);
  let p = nl + 1;
  for (let r = 0; r < count; r++) {
    while (p < bytes.length && (bytes[p] === 10 || bytes[p] === 13)) p++;
    const start = p;
    while (p < bytes.length && bytes[p] !== 32) {
      if (p - start > 1000) fail(start, `word ${r + 1} of ${count} is not followed by a space within 1000 bytes (corrupt file?)`);
      p++;
    }
    if (p >= bytes.length) fail(start, `the file ends inside word ${r + 1} of ${count} (truncated: ${bytes.length} bytes)`);
    let word = '';
    try { word = dec.decode(bytes.subarray(start, p)); } catch { fail(start, `word ${r + 1} of ${count} is not valid UTF-8`); }
    if (word === '') fail(start, `word ${r + 1} of ${count} is empty`);
    p++;
    if (p + dim * 4 > bytes.length) {
      fail(p, `the file ends inside the vector of word ${r + 1} of ${count} (${JSON.stringify(word)}): needs ${dim * 4} bytes, ${bytes.length - p} left (truncated)`);
    }
    for (let j = 0; j < dim; j++) {
      const v = view.getFloat32(p + j * 4, true);
      if (!Number.isFinite(v)) fail(p + j * 4, `value ${j + 1} of word ${JSON.stringify(word)} is ${v}`);
      data[r * dim + j] = v;
    }
    p += dim * 4;
    words.push(word);
  }
  while (p < bytes.length && (bytes[p] === 10 || bytes[p] === 13)) p++;
  if (p !== bytes.length) fail(p, `${bytes.length - p} bytes follow the ${count} words the header declares`);
  try {
    return new WordVectors(words, data, dim, options);
  } catch (e) {
    throw new Error(`${(e as Error).message} (file ${source})`);
  }
}

/** Reads a word2vec binary file (whole file in memory; a 3M × 300 file needs ~3.6 GB). */
export async function loadBinaryVectors(path: string, options: { unk?: string | null } = {}): Promise<WordVectors> {
  checkOptionKeys('loadBinaryVectors', options, new Set(['unk']));
  const fs = await import('node:fs/promises');
  let buf: Buffer;
  try { buf = await fs.readFile(path); } catch (e) { throw new Error(`Kiln: loadBinaryVectors: could not read ${path}: ${(e as Error).message}`); }
  return parseBinaryVectors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path, options);
}

interface VectorsVocabJSON {
  format: 'kiln-word-vectors';
  version: 1;
  words: string[];
  unk: string | null;
}

/** Saves `<stem>.safetensors` (tensor 'vectors' [size, dim]) and `<stem>.vocab.json`, each atomically. */
export async function saveWordVectors(wv: WordVectors, stem: string): Promise<{ tensors: string; vocab: string }> {
  if (!(wv instanceof WordVectors)) throw new Error(`Kiln: saveWordVectors: expects WordVectors, got ${typeof wv}`);
  const tensors = `${stem}.safetensors`, vocab = `${stem}.vocab.json`;
  await saveSafetensors(tensors, { vectors: new Tensor(wv.vectors, [wv.size, wv.dim], 'float32') }, { format: 'kiln-word-vectors' });
  const json: VectorsVocabJSON = { format: 'kiln-word-vectors', version: 1, words: [...wv.words], unk: wv.unk };
  await writeFileAtomic(vocab, new TextEncoder().encode(JSON.stringify(json)), 'saveWordVectors');
  return { tensors, vocab };
}

/** Loads what `saveWordVectors` wrote, checking that the vocabulary and the matrix agree. */
export async function loadWordVectors(stem: string): Promise<WordVectors> {
  const op = 'loadWordVectors';
  const vocabPath = `${stem}.vocab.json`, tensorPath = `${stem}.safetensors`;
  const json = (await readJSON(vocabPath, op)) as Partial<VectorsVocabJSON> | null;
  if (!json || json.format !== 'kiln-word-vectors' || !Array.isArray(json.words)) {
    throw new Error(`Kiln: ${op}: ${vocabPath} is not a Kiln word-vector vocabulary (format ${JSON.stringify(json?.format)})`);
  }
  const { tensors } = await loadSafetensors(tensorPath);
  const t = tensors.vectors;
  if (!t) throw new Error(`Kiln: ${op}: ${tensorPath} has no tensor 'vectors' (has ${Object.keys(tensors).join(', ')})`);
  if (t.ndim !== 2 || t.shape[0] !== json.words.length) {
    throw new Error(`Kiln: ${op}: ${tensorPath} holds vectors of shape [${t.shape.join(',')}] but ${vocabPath} lists ${json.words.length} words`);
  }
  return new WordVectors(json.words, Float32Array.from(t.dataSync() as ArrayLike<number>), t.shape[1]!, { unk: json.unk ?? null });
}
