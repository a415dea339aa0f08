/**
 * Max pooling on Wasm for the 2×2, stride-2, unpadded window (see assembly/pool.ts), where SIMD
 * compares four windows at once without branches; JavaScript's per-element compares mispredict
 * on real data. Other windows use the given fallback.
 */
import type { Kernels, WindowGeometry } from '../../backend.js';
import { align, type WasmRuntime } from './runtime.js';

type MaxPool = Kernels['maxPool'];

function isPlain2x2(g: WindowGeometry): boolean {
  return g.inSize.length === 2 && g.kernel.every((k) => k === 2) && g.stride.every((s) => s === 2)
    && g.dilation.every((d) => d === 1) && g.padBegin.every((p) => p === 0) && g.padEnd.every((p) => p === 0)
    && g.outSize.every((o, i) => 2 * o <= g.inSize[i]!);
}

export function makeMaxPool(rt: WasmRuntime, fallback: MaxPool): MaxPool {
  return (x, g, out, indices) => {
    const planes = g.batch * g.channels;
    if (!(x instanceof Float32Array && out instanceof Float32Array) || !isPlain2x2(g) || planes === 0) {
      fallback(x, g, out, indices);
      return;
    }
    const [H, W] = g.inSize as [number, number];
    const [OH, OW] = g.outSize as [number, number];
    const xPtr = rt.operandBase;
    const outPtr = align(xPtr + x.length * 4, 64);
    const idxPtr = align(outPtr + out.length * 4, 64);
    rt.ensure(idxPtr + indices.length * 4);
    rt.f32.set(x, xPtr >> 2);
    rt.exports.maxPool2x2(xPtr, planes, H, W, OH, OW, outPtr, idxPtr);
    rt.copyOut(outPtr, out.length, out);
    rt.copyOut(idxPtr, indices.length, indices);
  };
}
