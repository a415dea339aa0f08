import { describe, expect, it } from 'vitest';
import { kernels, withBackend } from '../../backend.js';
import '../../index.js';
import { referenceKernels } from '../reference/index.js';
import { rand } from './test-utils/data.js';

/** Large enough for the Wasm path, not a multiple of 4 (the scalar tail), with ±0, ±Infinity and NaN. */
function data(seed: number): Float32Array {
  const x = rand(40_003, seed);
  const specials = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45];
  for (let i = 0; i < 700; i++) x[(i * 57) % x.length] = specials[i % specials.length]!;
  return x;
}

const bits = (a: Float32Array) => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));

describe('wasm relu and relu gradient on large float32 arrays', () => {
  it('relu matches the reference bit for bit (NaN and -0 give +0)', () => {
    const x = data(1);
    const ref = new Float32Array(x.length);
    referenceKernels.unary('relu', x, ref, 0, 0);
    const out = new Float32Array(x.length);
    withBackend('wasm', () => kernels().unary('relu', x, out, 0, 0));
    expect(bits(out)).toEqual(bits(ref));
  });
  it('reluGrad matches the reference bit for bit (dy passes exactly where x > 0)', () => {
    const x = data(2);
    const dy = data(3);
    const ref = new Float32Array(x.length);
    referenceKernels.binary('reluGrad', dy, [x.length], x, [x.length], ref, [x.length]);
    const out = new Float32Array(x.length);
    withBackend('wasm', () => kernels().binary('reluGrad', dy, [x.length], x, [x.length], out, [x.length]));
    expect(bits(out)).toEqual(bits(ref));
  });
  it('relu and reluGrad just above the staging threshold (a few hundred elements, odd tail) match the reference', () => {
    const x = data(5).subarray(0, 515);
    const dy = data(6).subarray(0, 515);
    const r = new Float32Array(515);
    const o = new Float32Array(515);
    referenceKernels.unary('relu', x, r, 0, 0);
    withBackend('wasm', () => kernels().unary('relu', x, o, 0, 0));
    expect(bits(o)).toEqual(bits(r));
    referenceKernels.binary('reluGrad', dy, [515], x, [515], r, [515]);
    withBackend('wasm', () => kernels().binary('reluGrad', dy, [515], x, [515], o, [515]));
    expect(bits(o)).toEqual(bits(r));
  });
  it('other ops and small arrays still go through the fallback kernels', () => {
    const x = data(4);
    const ref = new Float32Array(x.length);
    referenceKernels.unary('abs', x, ref, 0, 0);
    const out = new Float32Array(x.length);
    withBackend('wasm', () => kernels().unary('abs', x, out, 0, 0));
    expect(bits(out)).toEqual(bits(ref));
    const small = x.subarray(0, 100);
    const r2 = new Float32Array(100);
    const o2 = new Float32Array(100);
    referenceKernels.unary('relu', small, r2, 0, 0);
    withBackend('wasm', () => kernels().unary('relu', small, o2, 0, 0));
    expect(bits(o2)).toEqual(bits(r2));
  });
});
