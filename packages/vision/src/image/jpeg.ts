/**
 * JPEG through jpeg-js (strict mode), behind a walk over the marker segments so that a corrupt
 * file is reported by the segment that is broken (`SOF0 segment at byte 158: ...`).
 */
import jpeg from 'jpeg-js';
import { checkImage, convertChannels, type Image } from './image.js';
import { checkOptions } from '@kiln/tensor';
import { DECODE_KEYS, type DecodeOptions } from './png.js';

const where = (source?: string): string => (source ? ` (${source})` : '');

function markerName(m: number): string {
  if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return `SOF${m - 0xc0}`;
  if (m >= 0xe0 && m <= 0xef) return `APP${m - 0xe0}`;
  if (m >= 0xd0 && m <= 0xd7) return `RST${m - 0xd0}`;
  const names: Record<number, string> = { 0xc4: 'DHT', 0xcc: 'DAC', 0xd8: 'SOI', 0xd9: 'EOI', 0xda: 'SOS', 0xdb: 'DQT', 0xdd: 'DRI', 0xfe: 'COM' };
  return names[m] ?? `marker 0xFF${m.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Walks SOI, the segments and the entropy-coded scans up to EOI; returns the frame's component count. */
function checkJpegStructure(bytes: Uint8Array, source?: string): number {
  const fail = (msg: string): never => { throw new Error(`Kiln: decodeJpeg: corrupt JPEG${where(source)}: ${msg}`); };
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) fail('missing the SOI marker (FF D8) at byte 0 (not a JPEG file)');
  let off = 2, components = 0, sawFrame = false;
  while (true) {
    if (off + 2 > bytes.length) fail(`file ends at byte ${bytes.length} before the EOI marker (truncated file)`);
    if (bytes[off] !== 0xff) fail(`expected a marker (FF xx) at byte ${off}, got 0x${bytes[off]!.toString(16)}`);
    const m = bytes[off + 1]!;
    if (m === 0xff) { off++; continue; } // fill byte
    const name = markerName(m);
    if (m === 0xd9) break;
    if (m >= 0xd0 && m <= 0xd7) { off += 2; continue; }
    if (off + 4 > bytes.length) fail(`${name} segment at byte ${off} is cut off before its length (truncated file)`);
    const len = (bytes[off + 2]! << 8) | bytes[off + 3]!;
    if (len < 2) fail(`${name} segment at byte ${off} has an invalid length ${len}`);
    if (off + 2 + len > bytes.length) fail(`${name} segment at byte ${off} declares ${len} bytes but only ${bytes.length - off - 2} remain (truncated file)`);
    if (name.startsWith('SOF')) {
      if (len < 8) fail(`${name} segment at byte ${off} is too short (${len} bytes)`);
      const h = (bytes[off + 5]! << 8) | bytes[off + 6]!, w = (bytes[off + 7]! << 8) | bytes[off + 8]!;
      components = bytes[off + 9]!;
      if (w === 0 || h === 0) fail(`${name} segment at byte ${off} gives an empty image (${w}×${h})`);
      if (components !== 1 && components !== 3) fail(`${name} segment at byte ${off}: ${components} colour components (only 1 and 3 are supported)`);
      if (len !== 8 + 3 * components) fail(`${name} segment at byte ${off}: length ${len} does not match ${components} components`);
      sawFrame = true;
    }
    off += 2 + len;
    if (m === 0xda) {
      if (!sawFrame) fail(`SOS segment at byte ${off - 2 - len} comes before any SOF frame header`);
      // entropy-coded data: runs until a marker other than a stuffed FF 00 or a restart marker
      while (off < bytes.length && !(bytes[off] === 0xff && bytes[off + 1] !== 0x00 && !(bytes[off + 1]! >= 0xd0 && bytes[off + 1]! <= 0xd7))) off++;
    }
  }
  if (!sawFrame) fail('no SOF frame header before EOI');
  return components;
}

/** Decodes baseline or progressive JPEG bytes (grey files give 1 channel, colour files 3). */
export function decodeJpeg(bytes: Uint8Array, options: DecodeOptions = {}): Image {
  checkOptions('decodeJpeg', options, DECODE_KEYS);
  const components = checkJpegStructure(bytes, options.source);
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
  } catch (e) {
    throw new Error(`Kiln: decodeJpeg: corrupt JPEG${where(options.source)}: scan data does not decode: ${(e as Error).message}`);
  }
  const rgb: Image = { width: raw.width, height: raw.height, channels: 3, data: raw.data };
  return convertChannels(rgb, options.channels ?? (components === 1 ? 1 : 3));
}

/** Encodes an Image as a baseline JPEG (alpha is dropped; grey is written as RGB). `quality` 1–100, default 90. */
export function encodeJpeg(img: Image, options: { quality?: number } = {}): Uint8Array {
  checkImage('encodeJpeg', img);
  checkOptions('encodeJpeg', options, { quality: 'number' });
  const quality = options.quality ?? 90;
  if (!(Number.isInteger(quality) && quality >= 1 && quality <= 100)) throw new Error(`Kiln: encodeJpeg: quality must be an integer in [1, 100], got ${quality}`);
  const rgba = convertChannels(img, 4);
  const out = jpeg.encode({ width: img.width, height: img.height, data: rgba.data }, quality);
  return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
}
