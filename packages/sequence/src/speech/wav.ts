/**
 * WAV read/write through node-wav: `@kiln/sequence/wav` (a separate entry point because node-wav
 * builds Node `Buffer`s; the rest of the package never touches Buffer or node:fs).
 *
 * Reading checks the RIFF structure first (magic, chunk sizes against the file length, the fmt
 * fields, whole frames) so a truncated or foreign file is a clear error, then hands node-wav a
 * canonical copy (data 8-byte aligned; WAVE_FORMAT_EXTENSIBLE mapped to its sub-format).
 * Formats: PCM 8/16/24/32-bit and IEEE float 32/64-bit in; PCM 8/16/24/32 and float 32 out.
 * PCM decodes to [−1, 1] (node-wav divides by 2^(b−1) below zero and 2^(b−1)−1 above); writing
 * clips samples to [−1, 1] (float 32 included) and truncates PCM toward zero.
 */
import { writeFileAtomic } from '@kiln/nn';
import { checkOptions, Tensor } from '@kiln/tensor';
import wav from 'node-wav';

export type WavFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';
const WRITE_FORMATS = ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32'] as const;

export interface WavData {
  sampleRate: number;
  /** One array per channel (1 = mono, 2 = stereo …), all the same length. */
  channelData: Float32Array[];
  /** The sample format found in the file. */
  format: WavFormat;
}

export interface WavWriteOptions {
  /** Samples per second (a positive integer). */
  sampleRate: number;
  /** Sample format (default 'pcm16'). */
  format?: (typeof WRITE_FORMATS)[number];
}

/** Audio to write: one channel, a list of channels, or a tensor `[time]` / `[channels, time]`. */
export type WavInput = Float32Array | Float64Array | readonly number[] | readonly (Float32Array | Float64Array | readonly number[])[] | Tensor;

const text = (b: Uint8Array, at: number) => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);

/** Decodes the bytes of a WAV file. */
export function decodeWav(bytes: Uint8Array | ArrayBuffer, name = 'the input'): WavData {
  const fn = 'decodeWav';
  const b = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : null;
  if (!b) throw new Error(`Kiln: ${fn}: expected a Uint8Array or ArrayBuffer, got ${typeof bytes}`);
  if (b.length < 12) throw new Error(`Kiln: ${fn}: ${name} is truncated or not a WAV file: ${b.length} bytes (a RIFF/WAVE header needs 12)`);
  if (text(b, 0) !== 'RIFF' || text(b, 8) !== 'WAVE') {
    throw new Error(`Kiln: ${fn}: ${name} is not a WAV file (expected 'RIFF'…'WAVE', got ${JSON.stringify(text(b, 0))}…${JSON.stringify(text(b, 8))})`);
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let fmt: { id: number; channels: number; sampleRate: number; blockAlign: number; bits: number } | null = null;
  let pos = 12;
  while (pos + 8 <= b.length) {
    const id = text(b, pos), size = view.getUint32(pos + 4, true), body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > b.length) throw new Error(`Kiln: ${fn}: ${name} is truncated: its fmt chunk declares ${size} bytes, ${b.length - body} remain (16 needed)`);
      let formatId = view.getUint16(body, true);
      if (formatId === 0xfffe && size >= 26) formatId = view.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the format id
      fmt = { id: formatId, channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), blockAlign: view.getUint16(body + 12, true), bits: view.getUint16(body + 14, true) };
      if (fmt.id !== 1 && fmt.id !== 3) throw new Error(`Kiln: ${fn}: ${name} has audio format 0x${fmt.id.toString(16)}; only PCM (1) and IEEE float (3) are supported`);
      const ok = fmt.id === 1 ? [8, 16, 24, 32].includes(fmt.bits) : [32, 64].includes(fmt.bits);
      if (!ok) throw new Error(`Kiln: ${fn}: ${name} has ${fmt.bits}-bit ${fmt.id === 1 ? 'PCM' : 'float'} samples (supported: PCM 8/16/24/32, float 32/64)`);
      if (fmt.channels < 1 || fmt.sampleRate < 1) throw new Error(`Kiln: ${fn}: ${name} declares ${fmt.channels} channels at ${fmt.sampleRate} Hz`);
      if (fmt.blockAlign !== (fmt.channels * fmt.bits) / 8) {
        throw new Error(`Kiln: ${fn}: ${name} has block align ${fmt.blockAlign}, expected ${(fmt.channels * fmt.bits) / 8} for ${fmt.channels} channels of ${fmt.bits} bits`);
      }
    } else if (id === 'data') {
      if (!fmt) throw new Error(`Kiln: ${fn}: ${name} has its data chunk before the fmt chunk`);
      if (body + size > b.length) throw new Error(`Kiln: ${fn}: ${name} is truncated: its data chunk declares ${size} bytes, ${b.length - body} remain`);
      if (size % fmt.blockAlign !== 0) throw new Error(`Kiln: ${fn}: ${name} has ${size} data bytes, not a whole number of ${fmt.blockAlign}-byte frames`);
      return decodeCanonical(fmt, b.subarray(body, body + size));
    }
    pos = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw new Error(`Kiln: ${fn}: ${name} is truncated or has no data chunk${fmt ? '' : ' (nor a fmt chunk)'} (${b.length} bytes)`);
}

function decodeCanonical(fmt: { id: number; channels: number; sampleRate: number; blockAlign: number; bits: number }, data: Uint8Array): WavData {
  // RIFF header (12) + fmt chunk with a 20-byte body (8 + 20) + data header (8) = 48: data aligned for 64-bit floats.
  const buf = new ArrayBuffer(48 + data.length);
  const v = new DataView(buf), u = new Uint8Array(buf);
  const put = (at: number, s: string) => { for (let i = 0; i < 4; i++) u[at + i] = s.charCodeAt(i); };
  put(0, 'RIFF'); v.setUint32(4, buf.byteLength - 8, true); put(8, 'WAVE');
  put(12, 'fmt '); v.setUint32(16, 20, true);
  v.setUint16(20, fmt.id, true); v.setUint16(22, fmt.channels, true); v.setUint32(24, fmt.sampleRate, true);
  v.setUint32(28, fmt.sampleRate * fmt.blockAlign, true); v.setUint16(32, fmt.blockAlign, true); v.setUint16(34, fmt.bits, true);
  put(40, 'data'); v.setUint32(44, data.length, true);
  u.set(data, 48);
  const out = wav.decode(buf as unknown as Buffer);
  return {
    sampleRate: out.sampleRate,
    channelData: [...out.channelData],
    format: fmt.id === 3 ? (fmt.bits === 32 ? 'float32' : 'float64') : (`pcm${fmt.bits}` as WavFormat),
  };
}

/** The channels of a write input, checked (equal lengths, finite values). */
function channelsOf(fn: string, audio: WavInput): Float32Array[] {
  let channels: ArrayLike<number>[];
  if (audio instanceof Tensor) {
    if (audio.ndim !== 1 && audio.ndim !== 2) throw new Error(`Kiln: ${fn}: audio must be a [time] or [channels, time] tensor, got shape [${audio.shape.join(',')}]`);
    const d = audio.dataSync(), T = audio.shape[audio.ndim - 1]!;
    channels = Array.from({ length: audio.ndim === 2 ? audio.shape[0]! : 1 }, (_, c) => d.subarray(c * T, (c + 1) * T));
  } else if (audio instanceof Float32Array || audio instanceof Float64Array) {
    channels = [audio];
  } else if (Array.isArray(audio) && audio.length > 0 && audio.every((c) => typeof c === 'number')) {
    channels = [audio as readonly number[]];
  } else if (Array.isArray(audio) && audio.length > 0 && audio.every((c) => c instanceof Float32Array || c instanceof Float64Array || Array.isArray(c))) {
    channels = audio as ArrayLike<number>[];
  } else {
    throw new Error(`Kiln: ${fn}: audio must be a non-empty channel (Float32Array, Float64Array, number[]), a list of channels or a tensor`);
  }
  const T = channels[0]!.length;
  if (T === 0) throw new Error(`Kiln: ${fn}: audio has no samples`);
  return channels.map((c, ci) => {
    if (c.length !== T) throw new Error(`Kiln: ${fn}: channel ${ci} has ${c.length} samples, channel 0 has ${T}`);
    const f = Float32Array.from(c);
    for (let i = 0; i < c.length; i++) {
      if (!Number.isFinite(c[i]!)) throw new Error(`Kiln: ${fn}: audio must be finite, got ${c[i]} at channel ${ci}, sample ${i}`);
    }
    return f;
  });
}

/** Encodes audio as the bytes of a WAV file. */
export function encodeWav(audio: WavInput, options: WavWriteOptions): Uint8Array {
  const fn = 'encodeWav';
  checkOptions(fn, options, { sampleRate: 'posint', format: [...WRITE_FORMATS] });
  if (!options || options.sampleRate === undefined) throw new Error(`Kiln: ${fn}: options.sampleRate is required`);
  const channels = channelsOf(fn, audio);
  if (channels.length > 65535) throw new Error(`Kiln: ${fn}: at most 65535 channels, got ${channels.length}`);
  const format = options.format ?? 'pcm16';
  const out = wav.encode(channels, format === 'float32' ? { sampleRate: options.sampleRate, float: true } : { sampleRate: options.sampleRate, bitDepth: Number(format.slice(3)) });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Reads a WAV file. */
export async function readWav(path: string): Promise<WavData> {
  const { readFile } = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`Kiln: readWav: could not read ${path}: ${(e as Error).message}`);
  }
  return decodeWav(bytes, path);
}

/** Writes a WAV file atomically (a temporary file renamed into place). */
export async function writeWav(path: string, audio: WavInput, options: WavWriteOptions): Promise<void> {
  await writeFileAtomic(path, encodeWav(audio, options), 'writeWav');
}
