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
