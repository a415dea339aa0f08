/**
 * Pooling over 1–3 spatial dims: max (with the argmax indices the backward routes through),
 * average, and adaptive average. Output sizes follow PyTorch, ceil mode included (the last
 * window must start inside the input or its left padding).
 *
 * Traced as `maxPool` / `avgPool` with ONNX-shaped attributes (`kernelShape`, `strides`,
 * `pads` as all begins then all ends, `dilations`, `ceilMode`, `countIncludePad`), and as
 * `adaptiveAvgPool` / `adaptiveMaxPool` (`outputSize`) when the windows are not uniform.
 */
import { kernels, type WindowGeometry } from '../backend.js';
import { checkOptions, describeValue, isOptionsObject, type OptionKind } from '../options.js';
import { allocate, allocateUninit } from '../dtype.js';
import { formatShape, sizeOf } from '../shape.js';
import { isGradEnabled } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { empty, finish, uninitialized, viewOf } from './core.js';
import { asDType, checkOutSize, expandArg, floatDType, geometry, poolOutSize, spatialInput, type Float, type SpatialArg } from './spatial.js';

export interface MaxPoolOptions {
  /** Step of the window (default: the kernel size). */
  stride?: SpatialArg;
  /** Implicit -∞ padding on both sides (at most half the kernel; default 0). */
  padding?: SpatialArg;
  /** Spacing between window taps (default 1). */
  dilation?: SpatialArg;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Also return the argmax of each window, as flat int32 indices into its (batch, channel) plane. */
  returnIndices?: boolean;
}

export interface AvgPoolOptions {
  /** Step of the window (default: the kernel size). */
  stride?: SpatialArg;
  /** Implicit zero padding on both sides (at most half the kernel; default 0). */
  padding?: SpatialArg;
  ceilMode?: boolean;
  /** Divide by the full window, padding included (default true, as in PyTorch). */
  countIncludePad?: boolean;
}

interface PoolSetup {
  x: Tensor;
  batched: boolean;
  g: WindowGeometry;
  attrs: Record<string, unknown>;
  dtype: 'float32' | 'float64';
}

function setup(op: string, n: number, input: Tensor, kernelSize: SpatialArg, stride: SpatialArg | undefined, padding: SpatialArg | undefined, dilation: SpatialArg | undefined, ceilMode: boolean): PoolSetup {
  const { x, batched } = spatialInput(op, input, n);
  const dtype = floatDType(op, [input]);
  const kernel = expandArg(op, 'kernelSize', kernelSize, n, 1);
  const s = stride == null || (Array.isArray(stride) && stride.length === 0) ? kernel : expandArg(op, 'stride', stride, n, 1);
  const p = expandArg(op, 'padding', padding ?? 0, n, 0);
  const d = expandArg(op, 'dilation', dilation ?? 1, n, 1);
  if (p.some((v, i) => v > kernel[i]! / 2)) {
    throw new Error(`Kiln: ${op}: padding ${formatShape(p)} must be at most half the kernel size ${formatShape(kernel)}`);
  }
  const inSize = x.shape.slice(2);
  const outSize = inSize.map((size, i) => poolOutSize(size, kernel[i]!, s[i]!, p[i]!, d[i]!, ceilMode));
  checkOutSize(op, input, kernel.map((k, i) => d[i]! * (k - 1) + 1), inSize.map((size, i) => size + 2 * p[i]!), outSize);
  const g = geometry(x, kernel, s, p, p, d, outSize);
  return { x, batched, g, dtype, attrs: { kernelShape: kernel, strides: s, pads: [...p, ...p], dilations: d, ceilMode } };
}

const MAX_SPEC: Record<string, OptionKind> = { stride: 'spatial', padding: 'spatial', dilation: 'spatial', ceilMode: 'boolean', returnIndices: 'boolean' };
const AVG_SPEC: Record<string, OptionKind> = { stride: 'spatial', padding: 'spatial', ceilMode: 'boolean', countIncludePad: 'boolean' };

/**
 * The kernel size and options of a pool call. Like PyTorch's keyword form, the kernel size may come
 * inside the options (`maxPool2d(x, { kernelSize: 2 })`); an int means a square/cubic window.
 */
function poolArgs<O>(op: string, kernelSize: unknown, options: unknown, spec: Record<string, OptionKind>): [SpatialArg, O] {
  let k = kernelSize, opts = options;
  if (isOptionsObject(kernelSize)) {
    if (options !== undefined) throw new Error(`Kiln: ${op}: give the options once (as the second argument with kernelSize inside, or as the third)`);
    const { kernelSize: inner, ...rest } = kernelSize as Record<string, unknown>;
    if (inner === undefined) throw new Error(`Kiln: ${op}: missing kernelSize (options given: ${Object.keys(rest).join(', ') || 'none'})`);
    k = inner;
    opts = rest;
  }
  if (!(typeof k === 'number' || (Array.isArray(k) && k.every((e) => typeof e === 'number')))) {
    throw new Error(`Kiln: ${op}: kernelSize must be a positive integer or an array of them, got ${describeValue(k)}`);
  }
  checkOptions(op, opts, spec);
  return [k as SpatialArg, (opts ?? {}) as O];
}

function outShape(S: PoolSetup): number[] {
  return S.batched ? [S.g.batch, S.g.channels, ...S.g.outSize] : [S.g.channels, ...S.g.outSize];
}

type MaxPoolFn = {
  (input: Tensor, kernelSize: SpatialArg, options?: MaxPoolOptions & { returnIndices?: false }): Tensor;
  (input: Tensor, kernelSize: SpatialArg, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
  (input: Tensor, options: MaxPoolOptions & { kernelSize: SpatialArg; returnIndices?: false }): Tensor;
  (input: Tensor, options: MaxPoolOptions & { kernelSize: SpatialArg; returnIndices: true }): [Tensor, Tensor];
};

function maxPoolNd(op: string, n: number): MaxPoolFn {
  return ((input: Tensor, kernelArg: unknown, optionsArg?: MaxPoolOptions): Tensor | [Tensor, Tensor] => {
    const [kernelSize, options] = poolArgs<MaxPoolOptions>(op, kernelArg, optionsArg, MAX_SPEC);
    const S = setup(op, n, input, kernelSize, options.stride, options.padding, options.dilation, options.ceilMode ?? false);
    const x = asDType(S.x, S.dtype);
    const shape = outShape(S);
    // Every kernel writes each output and index (a window always holds a tap: padding is at most
    // half the kernel), so neither is zero-filled first. Without a tape to record (inference) and
    // without returnIndices nobody reads the indices: the kernel may skip them.
    const out = uninitialized(shape, S.dtype);
    const wanted = options.returnIndices === true || (isGradEnabled() && input.requiresGrad);
    const indices = wanted ? (allocateUninit('int32', out.numel()) as Int32Array) : null;
    kernels().maxPool(x._data as Float, S.g, out._data as Float, indices);
    const values = finish(out, 'maxPool', [input], S.attrs, (grad) => {
      // maxPoolBackward writes every element of dx: no zeroed buffer needed.
      const dx = uninitialized(input.shape, S.dtype);
      kernels().maxPoolBackward(asDType(grad, S.dtype)._data as Float, indices!, S.g, dx._data as Float);
      return [dx];
    });
    return options.returnIndices ? [values, new Tensor(indices!, shape, 'int32')] : values;
  }) as MaxPoolFn;
}

type AvgPoolFn = {
  (input: Tensor, kernelSize: SpatialArg, options?: AvgPoolOptions): Tensor;
  (input: Tensor, options: AvgPoolOptions & { kernelSize: SpatialArg }): Tensor;
};

function avgPoolNd(op: string, n: number): AvgPoolFn {
  return ((input: Tensor, kernelArg: unknown, optionsArg?: AvgPoolOptions): Tensor => {
    const [kernelSize, options] = poolArgs<AvgPoolOptions>(op, kernelArg, optionsArg, AVG_SPEC);
    const S = setup(op, n, input, kernelSize, options.stride, options.padding, 1, options.ceilMode ?? false);
    const countIncludePad = options.countIncludePad ?? true;
    const x = asDType(S.x, S.dtype);
    const out = empty(outShape(S), S.dtype);
    kernels().avgPool(x._data as Float, S.g, countIncludePad, out._data as Float);
    const attrs = { kernelShape: S.g.kernel, strides: S.g.stride, pads: S.attrs.pads, ceilMode: S.attrs.ceilMode, countIncludePad };
    return finish(out, 'avgPool', [input], attrs, (grad) => {
      const dx = empty(input.shape, S.dtype);
      kernels().avgPoolBackward(asDType(grad, S.dtype)._data as Float, S.g, countIncludePad, dx._data as Float);
      return [dx];
    });
  }) as AvgPoolFn;
}

/** 1-D max pooling over `[N, C, L]` (or `[C, L]`); `returnIndices` also gives the argmax indices. */
export const maxPool1d = maxPoolNd('maxPool1d', 1);
/** 2-D max pooling over `[N, C, H, W]` (or `[C, H, W]`); `returnIndices` also gives the argmax indices. */
export const maxPool2d = maxPoolNd('maxPool2d', 2);
/** 3-D max pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`). */
export const maxPool3d = maxPoolNd('maxPool3d', 3);
/** 1-D average pooling over `[N, C, L]`. */
export const avgPool1d = avgPoolNd('avgPool1d', 1);
/** 2-D average pooling over `[N, C, H, W]`; `countIncludePad` (default true) counts padding in the divisor. */
export const avgPool2d = avgPoolNd('avgPool2d', 2);
/** 3-D average pooling over `[N, C, D, H, W]`. */
export const avgPool3d = avgPoolNd('avgPool3d', 3);

/**
 * The averaging matrix `[out, in]` of one dim of adaptive average pooling: row i averages
 * input positions floor(i·in/out) ≤ j < ceil((i+1)·in/out), as in PyTorch.
 */
function adaptiveMatrix(inSize: number, outSize: number, dtype: 'float32' | 'float64'): Float {
  const m = allocate(dtype, outSize * inSize) as Float;
  for (let i = 0; i < outSize; i++) {
    const start = Math.floor((i * inSize) / outSize);
    const end = Math.ceil(((i + 1) * inSize) / outSize);
    for (let j = start; j < end; j++) m[i * inSize + j] = 1 / (end - start);
  }
  return m;
}

/** out[p, o, q] = Σ_i M[o, i]·x[p, i, q] (or Mᵀ when `transpose`), one GEMM batched over p. */
function applyAlongDim(x: Float, p: number, inLen: number, q: number, m: Float, outLen: number, transpose: boolean, out: Float): void {
  kernels().gemm({
    batch: p, m: outLen, n: q, k: inLen, transA: transpose, transB: false,
    a: m, aOffset: 0, aBatchStride: 0,
    b: x, bOffset: 0, bBatchStride: inLen * q,
    c: out, cOffset: 0, cBatchStride: outLen * q,
    accumulate: false,
  });
}

function adaptiveAvgPoolNd(op: string, n: number) {
  return (input: Tensor, outputSize: number | ReadonlyArray<number | null>): Tensor => {
    const { x: xb, batched } = spatialInput(op, input, n);
    const dtype = floatDType(op, [input]);
    const inSize = xb.shape.slice(2);
    const list = typeof outputSize === 'number' ? new Array<number>(n).fill(outputSize) : outputSize.map((o, i) => o ?? inSize[i]!);
    const out = expandArg(op, 'outputSize', list, n, 1);
    const lead = xb.shape.slice(0, 2);
    const resultShape = (sizes: number[]) => (batched ? [...lead, ...sizes] : [lead[1]!, ...sizes]);
    if (inSize.some((s) => s === 0)) throw new Error(`Kiln: ${op}: input has an empty spatial dim: ${formatShape(input.shape)}`);
    const x = asDType(xb, dtype);

    // Uniform windows (in divisible by out): a plain average pool.
    if (inSize.every((s, i) => s % out[i]! === 0)) {
      const kernel = inSize.map((s, i) => s / out[i]!);
      const zeros = new Array<number>(n).fill(0);
      const g = geometry(x, kernel, kernel, zeros, zeros, new Array<number>(n).fill(1), out);
      const y = empty(resultShape(out), dtype);
      kernels().avgPool(x._data as Float, g, true, y._data as Float);
      const attrs = { kernelShape: kernel, strides: kernel, pads: [...zeros, ...zeros], ceilMode: false, countIncludePad: true };
      return finish(y, 'avgPool', [input], attrs, (grad) => {
        const dx = empty(input.shape, dtype);
        kernels().avgPoolBackward(asDType(grad, dtype)._data as Float, g, true, dx._data as Float);
        return [dx];
      });
    }

    // General windows: averaging is separable, so apply one [out, in] matrix per spatial dim.
    const mats = inSize.map((s, i) => adaptiveMatrix(s, out[i]!, dtype));
    const shapes: number[][] = [[...xb.shape]];
    let cur = x._data as Float;
    for (let d = 0; d < n; d++) {
      const shape = shapes[d]!;
      const next = [...shape];
      next[2 + d] = out[d]!;
      const y = allocate(dtype, sizeOf(next)) as Float;
      applyAlongDim(cur, sizeOf(shape.slice(0, 2 + d)), shape[2 + d]!, sizeOf(shape.slice(3 + d)), mats[d]!, out[d]!, false, y);
      shapes.push(next);
      cur = y;
    }
    const y = new Tensor(cur, resultShape(out), dtype);
    return finish(y, 'adaptiveAvgPool', [input], { outputSize: out }, (grad) => {
      let g = asDType(grad, dtype)._data as Float;
      for (let d = n - 1; d >= 0; d--) {
        const shape = shapes[d]!;
        const gx = allocate(dtype, sizeOf(shape)) as Float;
        applyAlongDim(g, sizeOf(shape.slice(0, 2 + d)), out[d]!, sizeOf(shape.slice(3 + d)), mats[d]!, shape[2 + d]!, true, gx);
        g = gx;
      }
      return [new Tensor(g, input.shape, dtype)];
    });
  };
}

/** Adaptive 1-D average pooling of `[N, C, L]` to `outputSize` (PyTorch's window rule). */
export const adaptiveAvgPool1d = adaptiveAvgPoolNd('adaptiveAvgPool1d', 1);
/**
 * Adaptive 2-D average pooling of `[N, C, H, W]` to `outputSize` (a number, or `[oh, ow]` where
 * null keeps that input size): window i spans floor(i·in/out) … ceil((i+1)·in/out).
 */
export const adaptiveAvgPool2d = adaptiveAvgPoolNd('adaptiveAvgPool2d', 2);
/** Adaptive 3-D average pooling of `[N, C, D, H, W]`. */
export const adaptiveAvgPool3d = adaptiveAvgPoolNd('adaptiveAvgPool3d', 3);

/** PyTorch's adaptive window of output i: [floor(i·in/out), ceil((i+1)·in/out)). */
function adaptiveWindow(i: number, inSize: number, outSize: number): [number, number] {
  return [Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)];
}

/**
 * One dim of adaptive max pooling on x `[p, inLen, q]`: every window is read out (indexSelect,
 * short windows padded by repeating their last element, which never changes the first argmax),
 * argmax picks the winner. Returns the values `[p, outLen, q]` and the input position of each.
 */
function adaptiveMaxDim(x: Float, p: number, inLen: number, q: number, outLen: number): { values: Float; source: Int32Array } {
  const k = kernels();
  let maxLen = 0;
  for (let i = 0; i < outLen; i++) {
    const [s, e] = adaptiveWindow(i, inLen, outLen);
    maxLen = Math.max(maxLen, e - s);
  }
  const taps = new Int32Array(outLen * maxLen);
  for (let i = 0; i < outLen; i++) {
    const [s, e] = adaptiveWindow(i, inLen, outLen);
    for (let j = 0; j < maxLen; j++) taps[i * maxLen + j] = Math.min(s + j, e - 1);
  }
  const windows = x instanceof Float64Array ? new Float64Array(p * outLen * maxLen * q) : new Float32Array(p * outLen * maxLen * q);
  k.indexSelect(x, [p, inLen, q], 1, taps, windows);
  const wShape = [p, outLen, maxLen, q];
  const source = new Int32Array(p * outLen * q);
  k.argReduce('argmax', windows, wShape, 2, source);
  const values = x instanceof Float64Array ? new Float64Array(source.length) : new Float32Array(source.length);
  k.gather(windows, wShape, 2, source, [p, outLen, 1, q], values);
  for (let t = 0; t < source.length; t++) {
    const i = Math.floor(t / q) % outLen;
    source[t] = adaptiveWindow(i, inLen, outLen)[0] + source[t]!;
  }
  return { values, source };
}

type AdaptiveMaxPoolFn = {
  (input: Tensor, outputSize: number | ReadonlyArray<number | null>, options?: { returnIndices?: false }): Tensor;
  (input: Tensor, outputSize: number | ReadonlyArray<number | null>, options: { returnIndices: true }): [Tensor, Tensor];
};

function adaptiveMaxPoolNd(op: string, n: number): AdaptiveMaxPoolFn {
  return ((input: Tensor, outputSize: number | ReadonlyArray<number | null>, options: { returnIndices?: boolean } = {}) => {
    checkOptions(op, options, { returnIndices: 'boolean' });
    const { x: xb, batched } = spatialInput(op, input, n);
    const dtype = floatDType(op, [input]);
    const inSize = xb.shape.slice(2);
    const list = typeof outputSize === 'number' ? new Array<number>(n).fill(outputSize) : outputSize.map((o, i) => o ?? inSize[i]!);
    const out = expandArg(op, 'outputSize', list, n, 1);
    if (inSize.some((s) => s === 0)) throw new Error(`Kiln: ${op}: input has an empty spatial dim: ${formatShape(input.shape)}`);
    // Max is separable; pooling the last dim first keeps PyTorch's row-major first-maximum rule.
    const steps: Array<{ d: number; shape: number[]; source: Int32Array }> = [];
    let shape = [...xb.shape];
    let cur = xb._data as Float;
    for (let d = n - 1; d >= 0; d--) {
      const { values, source } = adaptiveMaxDim(cur, sizeOf(shape.slice(0, 2 + d)), shape[2 + d]!, sizeOf(shape.slice(3 + d)), out[d]!);
      steps.push({ d, shape, source });
      shape = [...shape];
      shape[2 + d] = out[d]!;
      cur = values;
    }
    const resultShape = batched ? shape : shape.slice(1);
    const values = finish(new Tensor(cur, resultShape, dtype), 'adaptiveMaxPool', [input], { outputSize: out }, (grad) => {
      let g = asDType(grad, dtype)._data as Float;
      for (let s = steps.length - 1; s >= 0; s--) {
        const { d, shape: before, source } = steps[s]!;
        const gx = allocate(dtype, sizeOf(before)) as Float;
        const p = sizeOf(before.slice(0, 2 + d));
        const q = sizeOf(before.slice(3 + d));
        kernels().scatterAdd(gx, [p, before[2 + d]!, q], 1, source, [p, out[d]!, q], g);
        g = gx;
      }
      return [new Tensor(g, input.shape, dtype)];
    });
    if (!options.returnIndices) return values;
    // Follow each output back through the steps (first dim first) to its flat index in the plane.
    const indices = new Int32Array(cur.length);
    const outPlane = sizeOf(out);
    for (let t = 0; t < cur.length; t++) {
      const pos = new Array<number>(n);
      let rest = t % outPlane;
      for (let d = n - 1; d >= 0; d--) {
        pos[d] = rest % out[d]!;
        rest = Math.floor(rest / out[d]!);
      }
      const plane = Math.floor(t / outPlane);
      for (let s = steps.length - 1; s >= 0; s--) {
        const { d, shape: before, source } = steps[s]!;
        // Flat position in the step's output: dims < d still at input size, dims ≥ d at output size.
        let flat = plane;
        for (let e = 0; e < n; e++) flat = flat * (e === d ? out[e]! : before[2 + e]!) + pos[e]!;
        pos[d] = source[flat]!;
      }
      let idx = 0;
      for (let e = 0; e < n; e++) idx = idx * inSize[e]! + pos[e]!;
      indices[t] = idx;
    }
    return [values, new Tensor(indices, resultShape, 'int32')];
  }) as AdaptiveMaxPoolFn;
}

/** Adaptive 1-D max pooling of `[N, C, L]` to `outputSize`; `returnIndices` also gives the argmax. */
export const adaptiveMaxPool1d = adaptiveMaxPoolNd('adaptiveMaxPool1d', 1);
/** Adaptive 2-D max pooling of `[N, C, H, W]` to `outputSize` (PyTorch's windows; first maximum wins). */
export const adaptiveMaxPool2d = adaptiveMaxPoolNd('adaptiveMaxPool2d', 2);
/** Adaptive 3-D max pooling of `[N, C, D, H, W]`. */
export const adaptiveMaxPool3d = adaptiveMaxPoolNd('adaptiveMaxPool3d', 3);
