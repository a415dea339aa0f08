import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToNumber, bfloat16ToFloat32, float16BitsToNumber, float16ToFloat32, float32ToBfloat16, float32ToFloat16,
  numberToBfloat16Bits, numberToFloat16Bits,
} from './float16.js';

describe('float16 / bfloat16 storage conversion', () => {
  it('decodes hand-checked float16 patterns', () => {
    const cases: [number, number][] = [
      [0x0000, 0], [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x7bff, 65504], [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14], [0x7c00, Infinity], [0xfc00, -Infinity],
    ];
    for (const [bits, v] of cases) expect(float16BitsToNumber(bits)).toBe(v);
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
    expect(float16BitsToNumber(0x7e00)).toBeNaN();
  });

  it('every finite float16 value round-trips bit-exactly, and decoding agrees with the scalar path', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = float16ToFloat32(all);
    const back = float32ToFloat16(f);
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNaN) { expect(f[i]).toBeNaN(); expect(back[i]! & 0x7c00).toBe(0x7c00); continue; }
      if (back[i] !== i) throw new Error(`pattern ${i.toString(16)} → ${f[i]} → ${back[i]!.toString(16)}`);
    }
  });

  it('float16 encoding rounds to nearest, ties to even, with overflow and underflow', () => {
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(numberToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(numberToFloat16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(numberToFloat16Bits(65520)).toBe(0x7c00); // rounds past the largest finite → Inf
    expect(numberToFloat16Bits(65519)).toBe(0x7bff);
    expect(numberToFloat16Bits(1e10)).toBe(0x7c00);
    expect(numberToFloat16Bits(2 ** -25)).toBe(0x0000); // exactly half the smallest subnormal: tie → 0
    expect(numberToFloat16Bits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(numberToFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 subnormal units: tie → even (2)
    expect(numberToFloat16Bits(-1e-10)).toBe(0x8000);
    expect(numberToFloat16Bits(NaN) & 0x7e00).toBe(0x7e00);
  });

  it('bfloat16 is the upper half of float32, rounded to nearest even', () => {
    expect(bfloat16BitsToNumber(0x3f80)).toBe(1);
    expect(bfloat16BitsToNumber(0xc040)).toBe(-3);
    expect(numberToBfloat16Bits(1)).toBe(0x3f80);
    expect(numberToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(numberToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(numberToBfloat16Bits(Infinity)).toBe(0x7f80);
    expect(bfloat16BitsToNumber(numberToBfloat16Bits(NaN))).toBeNaN();
    const bits = float32ToBfloat16([0.5, -2.25, 3e38]);
    expect(Array.from(bfloat16ToFloat32(bits))).toEqual([0.5, -2.25, Math.fround(bfloat16BitsToNumber(bits[2]!))]);
    expect(bfloat16BitsToNumber(numberToBfloat16Bits(3.4e38))).toBe(Infinity); // above bf16 max rounds to Inf
  });
});
