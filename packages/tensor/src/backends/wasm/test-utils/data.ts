/** Deterministic test data for the wasm kernel tests: n floats in [-1, 1) from an xorshift seed. */
export function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** The largest |actual − expected| / (1 + |expected|) over the elements; NaN anywhere gives NaN. */
export function worst(actual: Float32Array, expected: Float32Array): number {
  let w = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!));
    if (Number.isNaN(e)) return NaN; // a later finite error must not hide it
    if (e > w) w = e;
  }
  return w;
}

/**
 * Where two float arrays first differ bit for bit (NaN payloads and −0 included): the element
 * index, −1 when they are the same bytes, or the shorter length when only the lengths differ. A
 * plain loop, because `toEqual` over half a million elements is slow and Node's `Buffer` is
 * missing in the browser pages.
 */
export function firstBitDifference(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return Math.floor(i / a.BYTES_PER_ELEMENT);
  return x.length === y.length ? -1 : Math.min(a.length, b.length);
}
