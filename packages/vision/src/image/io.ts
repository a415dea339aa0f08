import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@kiln/nn';
import { type Image } from './image.js';
import { checkOptions } from '@kiln/tensor';
import { DECODE_KEYS, decodePng, encodePng, type DecodeOptions } from './png.js';
import { decodeJpeg, encodeJpeg } from './jpeg.js';

/** Decodes PNG or JPEG bytes, told apart by their signature. */
export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Image {
  checkOptions('decodeImage', options, DECODE_KEYS);
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return decodePng(bytes, options);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return decodeJpeg(bytes, options);
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(`Kiln: decodeImage: ${options.source ?? 'input'} is neither PNG nor JPEG (first bytes: ${head || 'none, empty input'})`);
}

/** Reads and decodes a PNG or JPEG file. */
export async function readImage(path: string, options: Omit<DecodeOptions, 'source'> = {}): Promise<Image> {
  checkOptions('readImage', options, { channels: DECODE_KEYS.channels! });
  const bytes = await readFile(path);
  return decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...options, source: path });
}

/** Encodes by the file extension (.png, .jpg / .jpeg) and writes atomically; `quality` (1–100) is for JPEG only. */
export async function writeImage(path: string, img: Image, options: { quality?: number } = {}): Promise<void> {
  const ext = path.toLowerCase().match(/\.(png|jpe?g)$/)?.[1];
  if (!ext) throw new Error(`Kiln: writeImage: cannot tell the format of '${path}' (use a .png, .jpg or .jpeg extension)`);
  checkOptions('writeImage', options, { quality: 'number' });
  // PNG is lossless: a quality would be silently ignored
  if (ext === 'png' && options.quality !== undefined) throw new Error(`Kiln: writeImage: quality applies to JPEG only, got quality ${options.quality} for PNG '${path}'`);
  const bytes = ext === 'png' ? encodePng(img) : encodeJpeg(img, options);
  await writeFileAtomic(path, bytes, 'writeImage');
}
