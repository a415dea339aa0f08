import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { float32ToBfloat16, float32ToFloat16, tensor } from '@kiln/tensor';
import { BatchNorm2d, parseSafetensors, serializeSafetensors } from '../index.js';

/** Builds safetensors bytes by hand (as Python writers do): header JSON, then raw data. */
function build(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}
const SCALE = Number(process.env.KILN_FUZZ_RUNS ?? 1);
const SEED = process.env.KILN_FUZZ_SEED ? Number(process.env.KILN_FUZZ_SEED) : 20261202;
const TIMEOUT = 60_000 * Math.max(1, SCALE);
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * SCALE)), seed: SEED, endOnFailure: true });
const u8 = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('safetensors: dtypes written by PyTorch', () => {
  it('I64 loads as int32 (torchvision num_batches_tracked) and out-of-range values fail by name', () => {
    const v = BigInt64Array.from([0n, 123456n, -7n, 2147483647n, -2147483648n]);
    const st = build({ 'bn.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [0, 8] }, idx: { dtype: 'I64', shape: [4], data_offsets: [8, 40] } }, u8(v));
    const { tensors } = parseSafetensors(st);
    expect(tensors['bn.num_batches_tracked']!.dtype).toBe('int32');
    expect(tensors['bn.num_batches_tracked']!.item()).toBe(0);
    expect(tensors.idx!.toArray()).toEqual([123456, -7, 2147483647, -2147483648]);
    const big = build({ n: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, u8(BigInt64Array.from([1n, 2n ** 40n])));
    expect(() => parseSafetensors(big)).toThrow(/parseSafetensors: tensor 'n': I64 value 1099511627776 at index 1 does not fit int32/);
  });

  it('a torchvision-style BatchNorm2d state dict with I64 counter loads into a module', () => {
    const f = Float32Array.from([0.5, -1, 2]);
    const parts = [u8(f), u8(f), u8(f), u8(f), u8(BigInt64Array.from([17n]))];
    const names = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'];
    const header: Record<string, unknown> = {};
    let off = 0;
    parts.forEach((p, i) => {
      header[names[i]!] = { dtype: i === 4 ? 'I64' : 'F32', shape: i === 4 ? [] : [3], data_offsets: [off, off + p.byteLength] };
      off += p.byteLength;
    });
    const data = new Uint8Array(off);
    off = 0;
    for (const p of parts) { data.set(p, off); off += p.byteLength; }
    const bn = new BatchNorm2d(3);
    bn.loadStateDict(parseSafetensors(build(header, data)).tensors);
    expect(bn.stateDict().num_batches_tracked!.item()).toBe(17);
    expect(bn.stateDict().running_var!.toArray()).toEqual([0.5, -1, 2]);
  });

  it('F16 and BF16 decode to float32; small ints widen to int32', () => {
    const vals = [1, -2.5, 65504, 2 ** -24, 0.1];
    const h = float32ToFloat16(vals);
    const b = float32ToBfloat16(vals);
    const i8 = Int8Array.from([-128, 127]);
    const u16 = Uint16Array.from([65535, 0]);
    const data = new Uint8Array([...u8(h), ...u8(b), ...u8(i8), ...u8(u16)]);
    const { tensors } = parseSafetensors(build({
      h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] }, b: { dtype: 'BF16', shape: [5], data_offsets: [10, 20] },
      i: { dtype: 'I8', shape: [2], data_offsets: [20, 22] }, u: { dtype: 'U16', shape: [2], data_offsets: [22, 26] },
    }, data));
    expect(tensors.h!.dtype).toBe('float32');
    expect(tensors.h!.toArray()).toEqual([1, -2.5, 65504, 2 ** -24, 0.0999755859375]);
    expect(tensors.b!.toArray()).toEqual([1, -2.5, 65536, Math.fround(5.960464477539063e-8), 0.10009765625]);
    expect(tensors.i!.toArray()).toEqual([-128, 127]);
    expect(tensors.u!.toArray()).toEqual([65535, 0]);
  });
});

describe('safetensors: corrupt headers are errors naming the part at fault', () => {
  const f = u8(Float32Array.from([1, 2]));
  it('absurd shapes never allocate; offsets must be non-negative integers; overlaps are refused', () => {
    expect(() => parseSafetensors(build({ w: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 4e12] } }, f))).toThrow(/tensor 'w' needs bytes up to 4000000000000/);
    expect(() => parseSafetensors(build({ w: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 8] } }, f))).toThrow(/tensor 'w': data_offsets \[0, 8\] do not fit shape \[1000000,1000000\]/);
    expect(() => parseSafetensors(build({ w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, f))).toThrow(/tensor 'w' has invalid data_offsets \[-8,0\]/);
    expect(() => parseSafetensors(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0.5, 8.5] } }, f))).toThrow(/invalid data_offsets/);
    expect(() => parseSafetensors(build({ w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, f))).toThrow(/tensor 'w' has an invalid shape \[2.5\]/);
    expect(() => parseSafetensors(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f)))
      .toThrow(/tensors 'w' \[0, 8\] and 'v' \[4, 8\] have overlapping data_offsets/);
    expect(() => parseSafetensors(build({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, f))).toThrow(/tensor 'w' has unsupported dtype "Q4" \(supported: F32/);
    expect(() => parseSafetensors(build({ w: { dtype: 'toString', shape: [2], data_offsets: [0, 8] } }, f))).toThrow(/unsupported dtype "toString"/);
    expect(() => parseSafetensors(build({ w: 3 }, f))).toThrow(/tensor 'w': entry must be an object/);
    expect(() => parseSafetensors(build({ __metadata__: { a: 1 } }, f))).toThrow(/__metadata__ value 'a' must be a string/);
    expect(() => parseSafetensors(build({ b: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, new Uint8Array([1, 7])))).toThrow(/tensor 'b': BOOL value 7 at index 1/);
    const huge = build({}, f);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(() => parseSafetensors(huge)).toThrow(/header claims 9223372036854775808 bytes/);
  });

  it('a Node Buffer at a non-zero offset in a shared pool decodes its own bytes (Buffer.slice is a view)', () => {
    const bytes = serializeSafetensors({ a: tensor([1.5, -2, 3]), i: tensor(Int32Array.from([7, 8])) });
    const pooled = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from(bytes)]).subarray(3);
    expect(pooled.byteOffset).toBeGreaterThan(0);
    const { tensors } = parseSafetensors(pooled);
    expect(tensors.a!.toArray()).toEqual([1.5, -2, 3]);
    expect(tensors.i!.toArray()).toEqual([7, 8]);
  });

  it("a tensor named '__proto__' is an entry, not the result's prototype", () => {
    const { tensors } = parseSafetensors(build({ ['__proto__']: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f));
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
  });

  it('fuzz: truncated, bit-flipped and random bytes give a Kiln error or a result consistent with the file', () => {
    const good = serializeSafetensors({ a: tensor([[1, 2], [3, 4]]), b: tensor(Int32Array.from([5, -6, 7])), c: tensor([true, false]) }, { k: 'v' });
    const check = (bytes: Uint8Array): void => {
      let res;
      try { res = parseSafetensors(bytes); } catch (e) {
        expect((e as Error).message).toMatch(/^Kiln: parseSafetensors: /);
        return;
      }
      // accepted: every tensor's data must lie inside the file and match its shape
      let total = 0;
      for (const t of Object.values(res.tensors)) { expect(t.dataSync().length).toBe(t.numel()); total += t.numel(); }
      expect(total).toBeLessThanOrEqual(bytes.byteLength);
    };
    fc.assert(fc.property(fc.integer({ min: 0, max: good.byteLength }), (n) => check(good.slice(0, n))), runs(300));
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.byteLength - 1), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }), (flips) => {
      const b = good.slice();
      for (const [i, bit] of flips) b[i]! ^= 1 << bit;
      check(b);
    }), runs(1500));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (b) => check(b)), runs(500));
    // structured random headers: arbitrary JSON values in every field
    const field = fc.oneof(fc.jsonValue(), fc.array(fc.oneof(fc.integer(), fc.double(), fc.constant(1e12)), { maxLength: 4 }));
    fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.record({ dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'BOOL', 'U8'), fc.string()), shape: field, data_offsets: field }, { requiredKeys: [] })), fc.uint8Array({ maxLength: 64 }), (h, d) => check(build(h, d))), runs(800));
  }, TIMEOUT);
});
