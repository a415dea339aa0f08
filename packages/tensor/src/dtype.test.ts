import { describe, expect, it } from 'vitest';
import { allocate, allocateUninit, type DType } from './dtype.js';

describe('allocateUninit (outputs a kernel overwrites in full)', () => {
  const kinds: [DType, new (n: number) => ArrayBufferView, number][] = [
    ['float32', Float32Array, 4], ['float64', Float64Array, 8], ['int32', Int32Array, 4], ['bool', Uint8Array, 1],
  ];
  for (const [dtype, Ctor, bytes] of kinds) {
    it(`${dtype}: the right array type and length, over an ArrayBuffer of its own`, () => {
      for (const size of [0, 5, 3000, 70_001]) {
        const a = allocateUninit(dtype, size);
        expect(a).toBeInstanceOf(Ctor);
        expect(a.length).toBe(size);
        expect(a.byteOffset).toBe(0);
        expect(a.buffer.byteLength).toBe(size * bytes); // never a slice of a shared pool
        expect(a.buffer).not.toBe(allocateUninit(dtype, size).buffer);
        a.fill(1);
        expect(a[size - 1] ?? 1).toBe(1);
      }
    });
  }
  it('small sizes are zeroed like allocate', () => {
    expect(Array.from(allocateUninit('float32', 7))).toEqual(Array.from(allocate('float32', 7)));
  });
});
