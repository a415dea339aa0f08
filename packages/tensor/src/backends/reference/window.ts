/**
 * Sliding-window kernels over `[batch, channels, ...spatial]` for 1–3 spatial dims: im2col and
 * col2im (convolution) and max/average pooling. Every kernel walks the same N-d geometry, so
 * they are written once over spatial dims padded out to three (missing dims have size 1).
 */
import type { WindowGeometry } from '../../backend.js';

type Float = Float32Array | Float64Array;

interface Geometry3 {
  planes: number;
  channels: number;
  inS: [number, number, number];
  k: [number, number, number];
  s: [number, number, number];
  p: [number, number, number];
  d: [number, number, number];
  o: [number, number, number];
  inPlane: number;
  outPlane: number;
  kSize: number;
}

function to3(g: WindowGeometry): Geometry3 {
  const pad = (a: number[], fill: number): [number, number, number] => {
    const lead = 3 - a.length;
    return [lead > 0 ? fill : a[0 - lead]!, lead > 1 ? fill : a[1 - lead]!, a[2 - lead]!];
  };
  const inS = pad(g.inSize, 1);
  const o = pad(g.outSize, 1);
  const k = pad(g.kernel, 1);
  return {
    planes: g.batch * g.channels,
    channels: g.channels,
    inS,
    k,
    s: pad(g.stride, 1),
    p: pad(g.padBegin, 0),
    d: pad(g.dilation, 1),
    o,
    inPlane: inS[0] * inS[1] * inS[2],
    outPlane: o[0] * o[1] * o[2],
    kSize: k[0] * k[1] * k[2],
  };
}

/** Calls visit(kernelIndex, outIndex, inIndex or -1 when in padding) for one plane. */
function forEachTap(G: Geometry3, visit: (kk: number, oo: number, ii: number) => void): void {
  const [I0, I1, I2] = G.inS;
  const [K0, K1, K2] = G.k;
  const [O0, O1, O2] = G.o;
  let kk = 0;
  for (let a = 0; a < K0; a++) for (let b = 0; b < K1; b++) for (let c = 0; c < K2; c++, kk++) {
    let oo = 0;
    for (let x = 0; x < O0; x++) {
      const i0 = x * G.s[0] - G.p[0] + a * G.d[0];
      for (let y = 0; y < O1; y++) {
        const i1 = y * G.s[1] - G.p[1] + b * G.d[1];
        for (let z = 0; z < O2; z++, oo++) {
          const i2 = z * G.s[2] - G.p[2] + c * G.d[2];
          const inside = i0 >= 0 && i0 < I0 && i1 >= 0 && i1 < I1 && i2 >= 0 && i2 < I2;
          visit(kk, oo, inside ? (i0 * I1 + i1) * I2 + i2 : -1);
        }
      }
    }
  }
}

export function im2col(x: Float, g: WindowGeometry, cols: Float): void {
  const G = to3(g);
  const L = G.outPlane;
  for (let p = 0; p < G.planes; p++) {
    const xo = p * G.inPlane;
    const co = p * G.kSize * L; // plane p = (n, c) owns rows c·K .. c·K+K-1 of batch n.
    forEachTap(G, (kk, oo, ii) => {
      cols[co + kk * L + oo] = ii < 0 ? 0 : x[xo + ii]!;
    });
  }
}

export function col2im(cols: Float, g: WindowGeometry, x: Float): void {
  const G = to3(g);
  const L = G.outPlane;
  for (let p = 0; p < G.planes; p++) {
    const xo = p * G.inPlane;
    const co = p * G.kSize * L;
    forEachTap(G, (kk, oo, ii) => {
      if (ii >= 0) x[xo + ii] = x[xo + ii]! + cols[co + kk * L + oo]!;
    });
  }
}

export function maxPool(x: Float, g: WindowGeometry, out: Float, indicesOrNull: Int32Array | null): void {
  // The index decides ties and NaNs, so it is kept even when the caller does not want it.
  const indices = indicesOrNull ?? new Int32Array(out.length);
  const G = to3(g);
  const L = G.outPlane;
  for (let p = 0; p < G.planes; p++) {
    const xo = p * G.inPlane;
    const oo0 = p * L;
    out.fill(-Infinity, oo0, oo0 + L);
    indices.fill(-1, oo0, oo0 + L);
    forEachTap(G, (_kk, oo, ii) => {
      if (ii < 0) return;
      const v = x[xo + ii]!;
      const cur = out[oo0 + oo]!;
      // NaN propagates; the first maximum wins ties (as in PyTorch).
      if (v > cur || (v !== v && cur === cur) || indices[oo0 + oo] === -1) {
        out[oo0 + oo] = v;
        indices[oo0 + oo] = ii;
      }
    });
  }
}

export function maxPoolBackward(dy: Float, indices: Int32Array, g: WindowGeometry, dx: Float): void {
  const G = to3(g);
  const L = G.outPlane;
  dx.fill(0);
  for (let p = 0; p < G.planes; p++) {
    for (let j = 0; j < L; j++) {
      const ii = indices[p * L + j]!;
      if (ii >= 0) dx[p * G.inPlane + ii] = dx[p * G.inPlane + ii]! + dy[p * L + j]!;
    }
  }
}

/** The divisor of each output window (see Kernels.avgPool). */
function avgDivisors(G: Geometry3, countIncludePad: boolean, padEnd: number[]): Float64Array {
  const pe = [...Array(3 - padEnd.length).fill(0), ...padEnd] as number[];
  const div = new Float64Array(G.outPlane);
  let oo = 0;
  for (let x = 0; x < G.o[0]; x++) for (let y = 0; y < G.o[1]; y++) for (let z = 0; z < G.o[2]; z++, oo++) {
    let n = 1;
    const pos = [x, y, z];
    for (let d = 0; d < 3; d++) {
      const start = pos[d]! * G.s[d]! - G.p[d]!;
      const end = start + (G.k[d]! - 1) * G.d[d]! + 1;
      const lo = countIncludePad ? -G.p[d]! : 0;
      const hi = countIncludePad ? G.inS[d]! + pe[d]! : G.inS[d]!;
      const s = Math.max(start, lo);
      const e = Math.min(end, hi);
      n *= Math.max(0, Math.ceil((e - s) / G.d[d]!));
    }
    div[oo] = n;
  }
  return div;
}

export function avgPool(x: Float, g: WindowGeometry, countIncludePad: boolean, out: Float): void {
  const G = to3(g);
  const L = G.outPlane;
  const div = avgDivisors(G, countIncludePad, g.padEnd);
  for (let p = 0; p < G.planes; p++) {
    const xo = p * G.inPlane;
    const oo0 = p * L;
    out.fill(0, oo0, oo0 + L);
    forEachTap(G, (_kk, oo, ii) => {
      if (ii >= 0) out[oo0 + oo] = out[oo0 + oo]! + x[xo + ii]!;
    });
    for (let j = 0; j < L; j++) out[oo0 + j] = out[oo0 + j]! / div[j]!;
  }
}

export function avgPoolBackward(dy: Float, g: WindowGeometry, countIncludePad: boolean, dx: Float): void {
  const G = to3(g);
  const L = G.outPlane;
  const div = avgDivisors(G, countIncludePad, g.padEnd);
  for (let p = 0; p < G.planes; p++) {
    const xo = p * G.inPlane;
    const oo0 = p * L;
    forEachTap(G, (_kk, oo, ii) => {
      if (ii >= 0) dx[xo + ii] = dx[xo + ii]! + dy[oo0 + oo]! / div[oo]!;
    });
  }
}
