/**
 * `Image`: 8-bit pixels in HWC order (row-major, channels interleaved) — the layout PNG and
 * JPEG decoders produce and `toTensor` turns into CHW floats.
 */
export interface Image {
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  /** height · width · channels bytes. */
  data: Uint8Array;
}

/** Throws unless `img` is a well-formed Image (positive integer sizes, 1/3/4 channels, matching data length). */
export function checkImage(op: string, img: Image): void {
  if (!img || typeof img !== 'object') throw new Error(`Kiln: ${op}: expected an Image { width, height, channels, data }, got ${String(img)}`);
  const { width, height, channels, data } = img;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(`Kiln: ${op}: image width and height must be positive integers, got ${width}×${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new Error(`Kiln: ${op}: image channels must be 1, 3 or 4, got ${String(channels)}`);
  if (!(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw new Error(`Kiln: ${op}: image data must be a Uint8Array of ${width}·${height}·${channels} = ${width * height * channels} bytes, got ${data instanceof Uint8Array ? data.length : typeof data}`);
  }
}

/**
 * Converts between 1, 3 and 4 channels: grey → RGB repeats the value, RGB → grey uses the
 * ITU-R 601 luma weights (0.299, 0.587, 0.114; as PIL's convert('L')), alpha is dropped or set opaque.
 */
export function convertChannels(img: Image, channels: 1 | 3 | 4): Image {
  checkImage('convertChannels', img);
  // any other count would interleave three values per pixel into a buffer laid out for `channels`
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new Error(`Kiln: convertChannels: channels must be 1, 3 or 4, got ${String(channels)}`);
  if (img.channels === channels) return img;
  const n = img.width * img.height, src = img.data, c = img.channels, out = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    const r = src[p * c]!, g = c === 1 ? r : src[p * c + 1]!, b = c === 1 ? r : src[p * c + 2]!;
    if (channels === 1) out[p] = c === 1 ? r : Math.round((r * 299 + g * 587 + b * 114) / 1000);
    else {
      out[p * channels] = r; out[p * channels + 1] = g; out[p * channels + 2] = b;
      if (channels === 4) out[p * 4 + 3] = c === 4 ? src[p * 4 + 3]! : 255;
    }
  }
  return { width: img.width, height: img.height, channels, data: out };
}
