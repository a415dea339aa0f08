/**
 * IEEE half (float16) and bfloat16 bit patterns <-> float32, for loading and saving files that store
 * 16-bit floats (safetensors F16/BF16, ONNX FLOAT16/BFLOAT16). Kiln computes in float32; these only
 * convert storage. Encoding rounds to nearest, ties to even, like PyTorch's `.half()`.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Decodes one float16 bit pattern (0..0xffff) to a number. */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Encodes a number as the nearest float16 bit pattern (ties to even; overflow → ±Infinity). */
export function numberToFloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN (quiet)
  const e = exp - 127 + 15; // rebiased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (e <= 0) {
    // subnormal half (or zero): value = m * 2^-24 with m = round(|x| / 2^-24)
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = mant | 0x800000; // implicit bit
    const shift = 14 - e; // 14..24
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1))) r += 1;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r += 1; // may carry into the exponent (→ Inf): correct
  return sign | r;
}

/** Decodes a bfloat16 bit pattern: the upper half of a float32. */
export function bfloat16BitsToNumber(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/** Encodes a number as the nearest bfloat16 bit pattern (ties to even; NaN stays NaN). */
export function numberToBfloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff)) return ((b >>> 16) | 0x40) & 0xffff; // quiet NaN
  const rounded = b + 0x7fff + ((b >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** float16 bits → float32 values. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16BitsToNumber(bits[i]!);
  return out;
}

/** bfloat16 bits → float32 values. */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const o32 = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) o32[i] = bits[i]! << 16;
  return out;
}

/** Numbers → float16 bits (rounded to nearest even). */
export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToFloat16Bits(values[i]!);
  return out;
}

/** Numbers → bfloat16 bits (rounded to nearest even). */
export function float32ToBfloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToBfloat16Bits(values[i]!);
  return out;
}
