/**
 * Model inputs for `kiln run` / `kiln bench` from a file: JSON (named or bare nested arrays), NumPy
 * .npy (little-endian f4/f8/i4/i8/u1/b1, C order) or an image (.png, .jpg), shaped to the model's input.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { decodeImage, type Image } from '@kiln/vision';
import { interpolate, tensor, Tensor } from '@kiln/tensor';
import { InputError, UsageError } from './errors.js';

/** Declared shape of one model input: numbers for fixed dims, strings for symbolic ones. */
export interface InputSpec { name: string; shape: (number | string)[] }

/** Parses a .npy file into a tensor (float64 stays float64, int64 becomes int32 when it fits). */
export function parseNpy(bytes: Uint8Array, file = '.npy'): Tensor {
  const bad = (why: string) => new InputError(`kiln: ${file} is not a readable .npy file: ${why}`);
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw bad('no \\x93NUMPY magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw bad(`cannot read the header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw bad('Fortran-ordered arrays are not supported (save with np.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const off = start + headerLen;
  const body = bytes.slice(off); // copy: aligned
  const need = (size: number) => { if (body.byteLength < count * size) throw bad(`holds ${body.byteLength} data bytes, shape [${shape.join(', ')}] of ${descr} needs ${count * size}`); };
  switch (descr) {
    case '<f4': need(4); return tensor(new Float32Array(body.buffer, 0, count), { shape });
    case '<f8': need(8); return tensor(new Float64Array(body.buffer, 0, count), { shape, dtype: 'float64' });
    case '<i4': need(4); return tensor(new Int32Array(body.buffer, 0, count), { shape, dtype: 'int32' });
    case '<i8': {
      need(8);
      const src = new BigInt64Array(body.buffer, 0, count);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n) throw bad(`int64 value ${v} at index ${i} does not fit int32`);
        out[i] = Number(v);
      }
      return tensor(out, { shape, dtype: 'int32' });
    }
    case '|u1': case '<u1': need(1); return tensor(Float32Array.from(body.subarray(0, count)), { shape });
    case '|b1': need(1); return tensor(Uint8Array.from(body.subarray(0, count), (v) => (v ? 1 : 0)), { shape, dtype: 'bool' });
    default: throw bad(`dtype '${descr}' is not supported (use <f4, <f8, <i4, <i8, |u1 or |b1)`);
  }
}

/**
 * Decodes a PNG or JPEG into [1, C, H, W] float32 in [0, 1], with C, H, W taken from the model
 * input (C = 1: luminance; C = 3: RGB; transparent parts over black; resized bilinearly to fixed
 * H, W).
 */
export function imageToInput(bytes: Uint8Array, spec: InputSpec, file = 'image'): Tensor {
  let img: Image;
  try {
    img = decodeImage(bytes, { channels: 4, source: file });
  } catch (e) {
    throw new InputError(`kiln: ${file} is not a readable PNG or JPEG: ${(e as Error).message}`);
  }
  if (spec.shape.length !== 4) throw new UsageError(`kiln run: an image input needs a model input of rank 4 [N, C, H, W]; '${spec.name}' has shape [${spec.shape.join(', ')}]`);
  const c = typeof spec.shape[1] === 'number' ? spec.shape[1] : 3;
  if (c !== 1 && c !== 3) throw new UsageError(`kiln run: an image input needs 1 or 3 channels; '${spec.name}' has ${c}`);
  const { width: w, height: h, data } = img;
  const plane = w * h, x = new Float32Array(c * plane);
  for (let p = 0; p < plane; p++) {
    const a = data[4 * p + 3]! / 255;
    const [r, g, b] = [0, 1, 2].map((k) => (data[4 * p + k]! / 255) * a) as [number, number, number];
    if (c === 1) x[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    else { x[p] = r; x[plane + p] = g; x[2 * plane + p] = b; }
  }
  let t = tensor(x, { shape: [1, c, h, w] });
  const H = spec.shape[2], W = spec.shape[3];
  if (typeof H === 'number' && typeof W === 'number' && (H !== h || W !== w)) t = interpolate(t, { size: [H, W], mode: 'bilinear', alignCorners: false });
  return t;
}

/** Reads `--input` for a model with the given inputs, by file extension. */
export async function readInputs(file: string, specs: InputSpec[]): Promise<Record<string, Tensor>> {
  const ext = extname(file).toLowerCase();
  const image = ext === '.png' || ext === '.jpg' || ext === '.jpeg';
  if (ext !== '.json' && ext !== '.npy' && !image) throw new UsageError(`kiln run: --input must be a .json, .npy, .png or .jpg file, got '${file}'`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new InputError(`kiln: cannot read --input '${file}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const first = specs[0];
  if (!first) throw new InputError('kiln: the model declares no inputs');
  if (ext === '.npy' || image) {
    if (specs.length > 1) throw new UsageError(`kiln run: a ${ext} file feeds one input, the model has ${specs.length} (${specs.map((s) => s.name).join(', ')}); use a JSON file keyed by input name`);
    return { [first.name]: image ? imageToInput(bytes, first, file) : parseNpy(bytes, file) };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new InputError(`kiln: ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const record = Array.isArray(json) ? { [first.name]: json } : json;
  if (record === null || typeof record !== 'object') throw new InputError(`kiln: ${file} must hold an array or an object keyed by input name`);
  const out: Record<string, Tensor> = {};
  for (const s of specs) {
    const v = (record as Record<string, unknown>)[s.name];
    if (v === undefined) throw new InputError(`kiln: ${file} lacks input '${s.name}' (model inputs: ${specs.map((q) => q.name).join(', ')})`);
    try {
      out[s.name] = tensor(v as number[]);
    } catch (e) {
      throw new InputError(`kiln: ${file}: input '${s.name}' is not a rectangular array of numbers: ${(e as Error).message}`);
    }
  }
  return out;
}
