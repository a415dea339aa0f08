/**
 * ONNX Resize (opsets 10–19; Upsample's successor) as separable per-axis gathers: each output index
 * of an axis reads 1 (nearest), 2 (linear) or 4 (cubic) input indices with weights, so every
 * coordinate_transformation_mode, nearest_mode, cubic_coeff_a, exclude_outside and
 * tf_crop_and_resize's extrapolation follow the spec exactly, and gradients flow through the gathers.
 */
import * as K from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import type { NodeContext } from '../context.js';

type Taps = { idx: Int32Array; w: Float64Array }[];

const MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'];
const NEAREST = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** Output coordinate o → input coordinate, per the coordinate_transformation_mode. */
/** `outLen` is in·scale, unrounded (the spec's reference uses it so when scales are given). */
function sourceCoord(ctm: string, o: number, inLen: number, outLen: number, scale: number, roi: [number, number]): number {
  switch (ctm) {
    case 'half_pixel': return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return outLen > 1 ? (o + 0.5) / scale - 0.5 : -0.5;
    case 'align_corners': return outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1);
    case 'asymmetric': return o / scale;
    case 'tf_half_pixel_for_nn': return (o + 0.5) / scale;
    default: // tf_crop_and_resize
      return outLen > 1 ? roi[0] * (inLen - 1) + (o * (roi[1] - roi[0]) * (inLen - 1)) / (outLen - 1) : 0.5 * (roi[0] + roi[1]) * (inLen - 1);
  }
}

function cubicWeights(t: number, a: number): number[] {
  const f = (d: number) => {
    const x = Math.abs(d);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  };
  return [f(t + 1), f(t), f(1 - t), f(2 - t)];
}

function axisTaps(c: NodeContext, mode: string, ctm: string, inLen: number, outLen: number, scale: number, roi: [number, number]): { taps: Taps; outside: Uint8Array | null } {
  const nearestMode = c.string('nearest_mode', c.opset < 11 ? 'floor' : 'round_prefer_floor');
  if (!NEAREST.includes(nearestMode)) throw c.error(`nearest_mode '${nearestMode}' is not one of ${NEAREST.join(', ')}`);
  const a = c.float('cubic_coeff_a', -0.75);
  const exclude = c.int('exclude_outside', 0) === 1;
  const n = mode === 'nearest' ? 1 : mode === 'linear' ? 2 : 4;
  const taps: Taps = Array.from({ length: n }, () => ({ idx: new Int32Array(outLen), w: new Float64Array(outLen) }));
  const outside = ctm === 'tf_crop_and_resize' ? new Uint8Array(outLen) : null;
  const clampIdx = (i: number) => Math.min(inLen - 1, Math.max(0, i));
  for (let o = 0; o < outLen; o++) {
    const x = sourceCoord(ctm, o, inLen, inLen * scale, scale, roi);
    if (outside && (x < 0 || x > inLen - 1)) outside[o] = 1;
    if (mode === 'nearest') {
      const fl = Math.floor(x);
      let i: number;
      if (nearestMode === 'floor') i = fl;
      else if (nearestMode === 'ceil') i = Math.ceil(x);
      else if (x - fl === 0.5) i = nearestMode === 'round_prefer_floor' ? fl : fl + 1;
      else i = Math.round(x);
      taps[0]!.idx[o] = clampIdx(i);
      taps[0]!.w[o] = 1;
    } else if (mode === 'linear') {
      const xc = Math.min(inLen - 1, Math.max(0, x));
      const i0 = Math.floor(xc), t = xc - i0;
      taps[0]!.idx[o] = i0; taps[0]!.w[o] = 1 - t;
      taps[1]!.idx[o] = clampIdx(i0 + 1); taps[1]!.w[o] = t;
    } else {
      const i0 = Math.floor(x), t = x - i0;
      const ws = cubicWeights(t, a);
      let total = 0;
      for (let k = 0; k < 4; k++) {
        const i = i0 - 1 + k;
        if (exclude && (i < 0 || i >= inLen)) ws[k] = 0;
        total += ws[k]!;
      }
      for (let k = 0; k < 4; k++) {
        taps[k]!.idx[o] = clampIdx(i0 - 1 + k);
        taps[k]!.w[o] = exclude ? ws[k]! / total : ws[k]!;
      }
    }
  }
  return { taps, outside };
}

export function resize(c: NodeContext): Tensor {
  let x = c.input(0);
  const rank = x.ndim;
  const mode = c.string('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic') throw c.error(`mode '${mode}' is not one of nearest, linear, cubic`);
  // Opset 10: (X, scales) with Upsample's asymmetric coordinates; 11+: (X, roi, scales, sizes).
  const ctm = c.opset < 11 ? 'asymmetric' : c.string('coordinate_transformation_mode', 'half_pixel');
  if (!MODES.includes(ctm)) throw c.error(`coordinate_transformation_mode '${ctm}' is not one of ${MODES.join(', ')}`);
  if (c.int('antialias', 0)) throw c.error('antialias=1 is not supported');
  const policy = c.string('keep_aspect_ratio_policy', 'stretch');
  const axes = c.has('axes') ? c.intList('axes').map((a) => (a < 0 ? a + rank : a)) : x.shape.map((_, i) => i);
  if (axes.some((a) => a < 0 || a >= rank)) throw c.error(`axes [${c.intList('axes').join(', ')}] out of range for rank ${rank}`);
  const list = (i: number) => {
    const t = c.optionalInput(i);
    return t && t.numel() > 0 ? Array.from(t.dataSync(), Number) : null;
  };
  const scalesIn = c.opset < 11 ? list(1) : list(2);
  const sizesIn = c.opset < 11 ? null : list(3);
  const roiIn = c.opset < 11 ? null : list(1);
  if (!scalesIn && !sizesIn) throw c.error('needs scales or sizes');
  if (scalesIn && sizesIn) throw c.error('give only one of scales and sizes');
  const given = (sizesIn ?? scalesIn)!;
  if (given.length !== axes.length) throw c.error(`${sizesIn ? 'sizes' : 'scales'} has ${given.length} values for ${axes.length} axes`);
  const scales = new Array<number>(rank).fill(1);
  const sizes = [...x.shape];
  if (sizesIn) {
    let ratios = axes.map((a, i) => sizesIn[i]! / x.shape[a]!);
    if (policy !== 'stretch') {
      const r = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      ratios = ratios.map(() => r);
      axes.forEach((a, i) => { sizes[a] = Math.round(r * x.shape[a]!); scales[a] = ratios[i]!; });
    } else {
      axes.forEach((a, i) => { sizes[a] = sizesIn[i]!; scales[a] = ratios[i]!; });
    }
  } else {
    axes.forEach((a, i) => {
      const s = scalesIn![i]!;
      if (!(s > 0)) throw c.error(`scale ${s} for axis ${a} must be positive`);
      scales[a] = s;
      sizes[a] = Math.floor(x.shape[a]! * s);
    });
  }
  if (sizes.some((s) => !Number.isInteger(s) || s < 1)) throw c.error(`output shape [${sizes.join(', ')}] is not positive`);
  c.checkSize(sizes, 'output shape');
  const extrapolation = c.float('extrapolation_value', 0);
  axes.forEach((a, ai) => {
    const inLen = x.shape[a]!, outLen = sizes[a]!;
    const roi: [number, number] = roiIn && roiIn.length === 2 * axes.length ? [roiIn[ai]!, roiIn[axes.length + ai]!] : [0, 1];
    if (inLen === outLen && scales[a] === 1 && ctm !== 'tf_crop_and_resize') return;
    const { taps, outside } = axisTaps(c, mode, ctm, inLen, outLen, scales[a]!, roi);
    const bshape = x.shape.map((_, d) => (d === a ? outLen : 1));
    const isFloat = x.dtype === 'float32' || x.dtype === 'float64';
    let y: Tensor | null = null;
    for (const t of taps) {
      const g = K.indexSelect(x, a, new Tensor(t.idx, [outLen], 'int32'));
      if (taps.length === 1 && !outside) { y = g; break; }
      const term = g.mul(new Tensor(isFloat && x.dtype === 'float64' ? t.w : Float32Array.from(t.w), bshape, isFloat ? x.dtype : 'float32'));
      y = y ? y.add(term) : term;
    }
    if (outside) {
      const m = new Tensor(Float32Array.from(outside), bshape, 'float32');
      y = y!.mul(m.neg().add(1)).add(m.mul(extrapolation));
    }
    x = y!;
  });
  return x;
}
