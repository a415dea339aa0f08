/**
 * PNG through pngjs, behind a structural check of our own: the signature, every chunk's length
 * and CRC, IHDR first and IEND last — so a corrupt file is reported by the part that is broken
 * (`chunk IDAT at byte 57: CRC mismatch`) rather than by a decoder's internal state.
 */
import pngjs from 'pngjs';
import { checkOptions, type OptionKind } from '@kiln/tensor';
import { checkImage, convertChannels, type Image } from './image.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const where = (source?: string): string => (source ? ` (${source})` : '');

/** Walks the chunks; returns the IHDR colour type and whether a tRNS chunk is present. */
function checkPngStructure(bytes: Uint8Array, source?: string): { colorType: number; transparency: boolean } {
  const fail = (msg: string): never => { throw new Error(`Kiln: decodePng: corrupt PNG${where(source)}: ${msg}`); };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('the 8-byte PNG signature is missing (not a PNG file)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 8, colorType = -1, transparency = false, sawIend = false, sawIdat = false;
  while (off < bytes.length) {
    if (off + 12 > bytes.length) fail(`truncated chunk header at byte ${off} (${bytes.length - off} bytes left, a chunk needs at least 12)`);
    const len = view.getUint32(off);
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`chunk at byte ${off} has an invalid type ${JSON.stringify(type)}`);
    if (off + 12 + len > bytes.length) fail(`chunk ${type} at byte ${off} declares ${len} data bytes but only ${bytes.length - off - 12} remain (truncated file)`);
    const stored = view.getUint32(off + 8 + len);
    if (crc32(bytes, off + 4, off + 8 + len) !== stored) fail(`chunk ${type} at byte ${off}: CRC mismatch (data damaged)`);
    if (off === 8 && type !== 'IHDR') fail(`the first chunk must be IHDR, got ${type}`);
    if (type === 'IHDR') {
      if (len !== 13) fail(`chunk IHDR at byte ${off} must hold 13 bytes, got ${len}`);
      if (view.getUint32(off + 8) === 0 || view.getUint32(off + 12) === 0) fail(`chunk IHDR gives an empty image (${view.getUint32(off + 8)}×${view.getUint32(off + 12)})`);
      colorType = bytes[off + 17]!;
    }
    if (type === 'tRNS') transparency = true;
    if (type === 'IDAT' && !sawIdat && len >= 2) {
      // The image data is one zlib stream (PNG allows only deflate, CM 8, with a window of at most
      // 32 KiB, no preset dictionary). Checked here so a damaged stream always gets this error:
      // pngjs's synchronous inflate did not reliably throw on garbage.
      const cmf = bytes[off + 8]!, flg = bytes[off + 9]!;
      if ((cmf & 15) !== 8 || cmf >> 4 > 7 || (cmf * 256 + flg) % 31 !== 0 || (flg & 32) !== 0) {
        const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;
        fail(`pixel data (IDAT) does not decode: invalid zlib header at byte ${off + 8} (CMF ${hex(cmf)}, FLG ${hex(flg)}; PNG needs deflate with a window of at most 32 KiB, a header check that divides by 31 and no preset dictionary)`);
      }
    }
    if (type === 'IDAT') sawIdat = true;
    off += 12 + len;
    if (type === 'IEND') { sawIend = true; break; }
  }
  if (!sawIdat) fail('no IDAT chunk (no pixel data)');
  if (!sawIend) fail('no IEND chunk (truncated file)');
  return { colorType, transparency };
}

export interface DecodeOptions {
  /** Convert to this many channels; default: what the file holds (grey → 1, colour → 3, with alpha → 4). */
  channels?: 1 | 3 | 4;
  /** Names the file in error messages. */
  source?: string;
}

/** Kinds of DecodeOptions (a misspelt `channel` would otherwise decode with the file's own channels). */
export const DECODE_KEYS: Readonly<Record<string, OptionKind>> = {
  channels: (v) => (v === 1 || v === 3 || v === 4 ? null : '1, 3 or 4'), source: 'string',
};

/** Decodes PNG bytes (8- or 16-bit, any colour type; 16-bit samples are scaled to 8 bits). */
export function decodePng(bytes: Uint8Array, options: DecodeOptions = {}): Image {
  checkOptions('decodePng', options, DECODE_KEYS);
  const { colorType, transparency } = checkPngStructure(bytes, options.source);
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new Error(`Kiln: decodePng: corrupt PNG${where(options.source)}: pixel data (IDAT) does not decode: ${(e as Error).message}`);
  }
  const rgba: Image = { width: raw.width, height: raw.height, channels: 4, data: new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength) };
  const natural = colorType === 0 ? 1 : colorType === 4 || colorType === 6 || transparency ? 4 : 3;
  return convertChannels(rgba, options.channels ?? natural);
}

/** Encodes an Image as an 8-bit PNG (grey, RGB or RGBA as the image has). */
export function encodePng(img: Image): Uint8Array {
  checkImage('encodePng', img);
  const rgba = convertChannels(img, 4);
  const colorType = img.channels === 1 ? 0 : img.channels === 3 ? 2 : 6;
  const png = { width: img.width, height: img.height, data: Buffer.from(rgba.data.buffer, rgba.data.byteOffset, rgba.data.byteLength) };
  const out = pngjs.PNG.sync.write(png as never, { colorType, inputColorType: 6 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
