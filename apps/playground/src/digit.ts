/**
 * Turns a drawing into what the LeNet-5 of models/lenet5-mnist expects, following MNIST's own
 * normalisation: crop to the ink, scale the longer side to 20 pixels (area-averaged, aspect kept),
 * place it in 28×28 with its centre of mass at the centre, pad by 2 to 32×32. Pixels in [0, 1],
 * white digit on black.
 */

/** Grey levels in [0, 1] of an RGBA image (the red channel: the canvas draws white on black). */
export function greyFromRgba(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Float32Array {
  if (rgba.length !== width * height * 4) throw new Error(`playground: greyFromRgba: ${rgba.length} bytes is not ${width}×${height}×4`);
  const g = new Float32Array(width * height);
  for (let i = 0; i < g.length; i++) g[i] = rgba[i * 4]! / 255;
  return g;
}

/** MNIST-style 32×32 input from a grey image; null when nothing is drawn. */
export function toMnist32(grey: Float32Array, width: number, height: number): Float32Array | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (grey[y * width + x]! > 0.05) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale)), th = Math.max(1, Math.round(bh * scale));
  // area-average the box into tw×th
  const small = new Float32Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    const sy0 = y0 + (ty * bh) / th, sy1 = y0 + ((ty + 1) * bh) / th;
    for (let tx = 0; tx < tw; tx++) {
      const sx0 = x0 + (tx * bw) / tw, sx1 = x0 + ((tx + 1) * bw) / tw;
      let sum = 0, area = 0;
      for (let y = Math.floor(sy0); y < Math.ceil(sy1); y++) {
        const wy = Math.min(y + 1, sy1) - Math.max(y, sy0);
        for (let x = Math.floor(sx0); x < Math.ceil(sx1); x++) {
          const w = wy * (Math.min(x + 1, sx1) - Math.max(x, sx0));
          sum += w * grey[y * width + x]!;
          area += w;
        }
      }
      small[ty * tw + tx] = area > 0 ? sum / area : 0;
    }
  }
  // centre of mass of the scaled digit
  let m = 0, cx = 0, cy = 0;
  for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) { const v = small[y * tw + x]!; m += v; cx += v * x; cy += v * y; }
  cx = m > 0 ? cx / m : (tw - 1) / 2;
  cy = m > 0 ? cy / m : (th - 1) / 2;
  const ox = Math.round(13.5 - cx), oy = Math.round(13.5 - cy);
  const out = new Float32Array(32 * 32);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const X = x + ox, Y = y + oy;
      if (X >= 0 && X < 28 && Y >= 0 && Y < 28) out[(Y + 2) * 32 + X + 2] = Math.min(1, small[y * tw + x]!);
    }
  }
  return out;
}

/** Softmax of logits (for showing confidences). */
export function softmax(logits: ArrayLike<number>): number[] {
  const mx = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
