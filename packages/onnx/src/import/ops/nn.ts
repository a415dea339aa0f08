/** Convolution, pooling, normalisation and resizing. */
import * as K from '@kiln/tensor';
import { Tensor } from '@kiln/tensor';
import type { NodeContext, OpHandler } from '../context.js';
import { resize } from './resize.js';

const CONV = [K.conv1d, K.conv2d, K.conv3d];
const CONVT = [K.convTranspose1d, K.convTranspose2d, K.convTranspose3d];
const MAXPOOL = [K.maxPool1d, K.maxPool2d, K.maxPool3d];
const AVGPOOL = [K.avgPool1d, K.avgPool2d, K.avgPool3d];

function spatial(c: NodeContext, x: Tensor): number {
  const n = x.ndim - 2;
  if (n < 1 || n > 3) throw c.error(`expects an N×C×(1–3 spatial dims) input, got shape [${x.shape.join(', ')}]`);
  return n;
}

/** Torch-order pad list (last dim first, (before, after) pairs) for the spatial dims of an N×C×… tensor. */
function torchPads(begin: number[], end: number[]): number[] {
  const out: number[] = [];
  for (let d = begin.length - 1; d >= 0; d--) out.push(begin[d]!, end[d]!);
  return out;
}

/** A window op's geometry: kernel, strides, dilations and begin/end pads with auto_pad resolved. */
interface Window { k: number[]; s: number[]; d: number[]; begin: number[]; end: number[] }

/** `pool`: pads must be smaller than the window extent; convolutions may pad up to it. */
function windowOf(c: NodeContext, x: Tensor, n: number, kernel: number[], pool: boolean): Window {
  const s = c.intList('strides', new Array<number>(n).fill(1));
  const d = c.intList('dilations', new Array<number>(n).fill(1));
  for (const [name, v] of [['kernel_shape', kernel], ['strides', s], ['dilations', d]] as const) {
    if (v.length !== n || v.some((e) => !Number.isInteger(e) || e < 1)) throw c.error(`${name} [${v.join(', ')}] must be ${n} positive integers`);
  }
  const { begin, end } = resolvePads(c, x.shape.slice(2), kernel, s, d);
  // A pad as wide as the dilated kernel only adds windows that lie wholly in padding; refusing it
  // also stops a corrupt pads value from turning into hours of pooling over padding.
  [...begin, ...end].forEach((p, i) => {
    const extent = (kernel[i % n]! - 1) * d[i % n]! + 1;
    if (pool ? p >= extent : p > extent) {
      throw c.error(`pads [${[...begin, ...end].join(', ')}]: pad ${p} is ${pool ? 'not smaller than' : 'larger than'} the window extent ${extent} of spatial dim ${i % n}`);
    }
  });
  if (pool) {
    // Pooling reads every tap of every window: bound that work, so a corrupt kernel_shape (a
    // 1000×1000 window with SAME padding on a 32×32 map: 3·10⁹ reads) fails instead of running for minutes.
    const outs = x.shape.slice(2).map((size, i) => Math.max(1, Math.floor((size + begin[i]! + end[i]! - ((kernel[i]! - 1) * d[i]! + 1)) / s[i]!) + 1));
    const work = x.shape[0]! * x.shape[1]! * outs.reduce((a, b) => a * b, 1) * kernel.reduce((a, b) => a * b, 1);
    if (work > MAX_POOL_WORK) throw c.error(`kernel_shape [${kernel.join(', ')}] over input [${x.shape.join(', ')}] needs ${work} window reads, more than the ${MAX_POOL_WORK} an imported pool may do`);
  }
  return { k: kernel, s, d, begin, end };
}

/** Most window reads (output elements × kernel elements) one imported pooling node may do. */
const MAX_POOL_WORK = 2 ** 31;

/** `pads`, or the pads that auto_pad SAME_UPPER / SAME_LOWER / VALID imply (output = ceil(input / stride)). */
function resolvePads(c: NodeContext, inSize: number[], k: number[], s: number[], d: number[]): { begin: number[]; end: number[] } {
  const n = inSize.length;
  const auto = c.string('auto_pad', 'NOTSET');
  if (auto === 'NOTSET') {
    const pads = c.intList('pads', new Array<number>(2 * n).fill(0));
    if (pads.length !== 2 * n || pads.some((p) => !Number.isInteger(p) || p < 0)) throw c.error(`pads [${pads.join(', ')}] must be ${2 * n} non-negative integers`);
    return { begin: pads.slice(0, n), end: pads.slice(n) };
  }
  if (auto === 'VALID') return { begin: new Array<number>(n).fill(0), end: new Array<number>(n).fill(0) };
  if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') throw c.error(`auto_pad '${auto}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  const begin: number[] = [], end: number[] = [];
  inSize.forEach((size, i) => {
    const out = Math.ceil(size / s[i]!);
    const total = Math.max(0, (out - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - size);
    const small = Math.floor(total / 2);
    begin.push(auto === 'SAME_UPPER' ? small : total - small);
    end.push(total - begin[i]!);
  });
  return { begin, end };
}

const padded = (x: Tensor, w: Window) => [...x.shape.slice(0, 2), ...x.shape.slice(2).map((s, i) => s + w.begin[i]! + w.end[i]!)];
const symmetric = (w: Window) => w.begin.every((p, i) => p === w.end[i]);
/** Padding the pool ops take natively: symmetric and at most half the kernel. */
const nativePool = (w: Window) => symmetric(w) && w.begin.every((p, i) => p <= w.k[i]! / 2);

/** MaxPool's Indices output: flat indices into the whole N×C×… input (storage_order 1: spatial dims column-major). */
function onnxIndices(idx: Tensor, x: Tensor, padded: number[], begin: number[], storageOrder: number): Tensor {
  const src = idx.dataSync() as Int32Array;
  const spatialShape = x.shape.slice(2);
  const plane = spatialShape.reduce((a, b) => a * b, 1);
  const per = src.length / (x.shape[0]! * x.shape[1]!);
  const out = new Int32Array(src.length);
  const coord = new Array<number>(spatialShape.length);
  for (let i = 0; i < src.length; i++) {
    let r = src[i]!;
    for (let dd = padded.length - 1; dd >= 0; dd--) { coord[dd] = (r % padded[dd]!) - begin[dd]!; r = Math.floor(r / padded[dd]!); }
    let flat = 0;
    if (storageOrder === 1) for (let dd = spatialShape.length - 1; dd >= 0; dd--) flat = flat * spatialShape[dd]! + coord[dd]!;
    else for (let dd = 0; dd < spatialShape.length; dd++) flat = flat * spatialShape[dd]! + coord[dd]!;
    out[i] = Math.floor(i / per) * plane + flat;
  }
  return new Tensor(out, idx.shape, 'int32');
}

export const nnOps: Record<string, OpHandler> = {
  Conv: (c) => {
    let x = c.input(0);
    const w = c.input(1);
    const n = spatial(c, x);
    const win = windowOf(c, x, n, c.has('kernel_shape') ? c.intList('kernel_shape') : w.shape.slice(2), false);
    let padding = win.begin;
    if (!symmetric(win)) {
      c.checkSize(padded(x, win), 'padded input');
      x = K.pad(x, torchPads(win.begin, win.end), 'constant', 0);
      padding = win.begin.map(() => 0);
    }
    return CONV[n - 1]!(x, w, c.optionalInput(2), { stride: win.s, padding, dilation: win.d, groups: c.int('group', 1) });
  },
  ConvTranspose: (c) => convTranspose(c),
  MaxPool: (c) => {
    const x0 = c.input(0);
    const n = spatial(c, x0);
    const storageOrder = c.int('storage_order', 0);
    if (storageOrder !== 0 && storageOrder !== 1) throw c.error(`storage_order ${storageOrder} must be 0 or 1`);
    const win = windowOf(c, x0, n, c.intList('kernel_shape'), true);
    const wantIndices = !!(c.node.output ?? [])[1];
    // Integer inputs pool exactly in float64 (int32 values fit), then cast back.
    let x = x0.dtype === 'int32' ? x0.to('float64') : x0;
    let padding = win.begin;
    if (!nativePool(win)) {
      c.checkSize(padded(x, win), 'padded input');
      x = K.pad(x, torchPads(win.begin, win.end), 'constant', -Infinity);
      padding = win.begin.map(() => 0);
    }
    const opts = { stride: win.s, padding, dilation: win.d, ceilMode: c.int('ceil_mode', 0) === 1 };
    const [y0, idx] = MAXPOOL[n - 1]!(x, win.k, { ...opts, returnIndices: true });
    const y = x0.dtype === 'int32' ? y0.to('int32') : y0;
    if (!wantIndices) return y;
    const explicit = padding !== win.begin;
    return [y, onnxIndices(idx, x0, x.shape.slice(2), explicit ? win.begin : win.begin.map(() => 0), storageOrder)];
  },
  AveragePool: (c) => {
    const x0 = c.input(0);
    const n = spatial(c, x0);
    const win = windowOf(c, x0, n, c.intList('kernel_shape'), true);
    const countIncludePad = c.int('count_include_pad', 0) === 1;
    const ceilMode = c.int('ceil_mode', 0) === 1;
    if (nativePool(win)) return AVGPOOL[n - 1]!(x0, win.k, { stride: win.s, padding: win.begin, ceilMode, countIncludePad });
    c.checkSize(padded(x0, win), 'padded input');
    const pads = torchPads(win.begin, win.end);
    const opts = { stride: win.s, padding: 0, ceilMode, countIncludePad: true };
    const sum = AVGPOOL[n - 1]!(K.pad(x0, pads, 'constant', 0), win.k, opts);
    if (countIncludePad) return sum;
    // Exclude the pads from each divisor: mean over the window / fraction of it inside the input.
    const inside = AVGPOOL[n - 1]!(K.pad(K.ones([1, 1, ...x0.shape.slice(2)], { dtype: x0.dtype }), pads, 'constant', 0), win.k, opts);
    return sum.div(inside);
  },
  GlobalAveragePool: (c) => {
    const x = c.input(0);
    spatial(c, x);
    return K.mean(x, x.shape.slice(2).map((_, i) => i + 2), true);
  },
  GlobalMaxPool: (c) => {
    const x = c.input(0);
    spatial(c, x);
    return K.max(x, x.shape.slice(2).map((_, i) => i + 2), true) as Tensor;
  },
  BatchNormalization: (c) => {
    if (c.opset < 9 && c.int('spatial', 1) === 0) throw c.error('spatial=0 (per-activation statistics, opsets < 9) is not supported');
    const x = c.input(0), scale = c.input(1), bias = c.input(2), mean = c.input(3), v = c.input(4);
    const eps = c.float('epsilon', 1e-5);
    const shape = [x.shape[1]!, ...x.shape.slice(2).map(() => 1)];
    const r = (t: Tensor) => K.reshape(t, shape);
    if (!c.int('training_mode', 0)) {
      const inv = K.rsqrt(r(v).add(eps));
      return x.sub(r(mean)).mul(inv).mul(r(scale)).add(r(bias));
    }
    // training_mode=1 (opset 14+): normalise with the batch statistics (biased variance) and
    // return the updated running statistics as outputs 1 and 2.
    const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const bm = K.mean(x, dims, true);
    const xc = x.sub(bm);
    const bv = K.mean(xc.square(), dims, true);
    const y = xc.mul(K.rsqrt(bv.add(eps))).mul(r(scale)).add(r(bias));
    const m = c.float('momentum', 0.9);
    const flat = (t: Tensor) => K.reshape(t, [x.shape[1]!]);
    return [y, mean.mul(m).add(flat(bm).mul(1 - m)), v.mul(m).add(flat(bv).mul(1 - m))];
  },
  LayerNormalization: (c) => {
    const x = c.input(0);
    const axis = c.int('axis', -1);
    const a = axis < 0 ? axis + x.ndim : axis;
    if (a < 0 || a >= x.ndim) throw c.error(`axis ${axis} is out of range for rank ${x.ndim}`);
    const dims = x.shape.slice(a).map((_, i) => a + i);
    const mu = K.mean(x, dims, true);
    const xc = x.sub(mu);
    const varr = K.mean(xc.square(), dims, true);
    const invStd = K.rsqrt(varr.add(c.float('epsilon', 1e-5)));
    let y = xc.mul(invStd).mul(c.input(1));
    const b = c.optionalInput(2);
    if (b) y = y.add(b);
    // Optional outputs Mean and InvStdDev: shape of x with the normalised dims kept as 1.
    return [y, mu, invStd];
  },
  Resize: resize,
};

/**
 * ONNX ConvTranspose: output = stride·(in−1) + output_padding + dilation·(k−1) + 1 − pads, where
 * output_shape or auto_pad SAME_* (output = in·stride) fix the total padding, split as the spec says.
 * Symmetric pads map onto Kiln's op; anything else runs it unpadded and crops (or zero-extends).
 */
function convTranspose(c: NodeContext): Tensor {
  const x = c.input(0), w = c.input(1), bias = c.optionalInput(2);
  const n = spatial(c, x);
  const k = c.has('kernel_shape') ? c.intList('kernel_shape') : w.shape.slice(2);
  const s = c.intList('strides', new Array<number>(n).fill(1));
  const d = c.intList('dilations', new Array<number>(n).fill(1));
  const group = c.int('group', 1);
  const op = c.intList('output_padding', new Array<number>(n).fill(0));
  for (const [name, v, min] of [['kernel_shape', k, 1], ['strides', s, 1], ['dilations', d, 1], ['output_padding', op, 0]] as const) {
    if (v.length !== n || v.some((e) => !Number.isInteger(e) || e < min)) throw c.error(`${name} [${v.join(', ')}] must be ${n} integers ≥ ${min}`);
  }
  const inSize = x.shape.slice(2);
  const full = inSize.map((size, i) => s[i]! * (size - 1) + (k[i]! - 1) * d[i]! + 1);
  const auto = c.string('auto_pad', 'NOTSET');
  let begin: number[], end: number[];
  const split = (target: number[]) => {
    const upper = auto === 'SAME_UPPER';
    const total = target.map((t, i) => full[i]! + op[i]! - t);
    begin = total.map((t) => (upper ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    end = total.map((t, i) => t - begin[i]!);
  };
  if (c.has('output_shape')) {
    const shape = c.intList('output_shape');
    if ((shape.length !== n && shape.length !== n + 2) || shape.some((e) => !Number.isInteger(e) || e < 1)) {
      throw c.error(`output_shape [${shape.join(', ')}] must list ${n} (or ${n + 2}) positive sizes`);
    }
    split(shape.slice(-n));
  } else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    split(inSize.map((size, i) => size * s[i]!));
  } else {
    if (auto !== 'NOTSET' && auto !== 'VALID') throw c.error(`auto_pad '${auto}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
    const pads = auto === 'VALID' ? new Array<number>(2 * n).fill(0) : c.intList('pads', new Array<number>(2 * n).fill(0));
    begin = pads.slice(0, n);
    end = pads.slice(n);
  }
  const b = begin!, e = end!;
  c.checkSize([x.shape[0]!, w.shape[1]! * group, ...full.map((F, i) => Math.max(F, F + op[i]! - b[i]! - e[i]!))], 'output');
  const native = b.every((p, i) => p === e[i] && p >= 0) && op.every((p, i) => p >= 0 && p < Math.max(s[i]!, d[i]!));
  if (native) return CONVT[n - 1]!(x, w, bias, { stride: s, padding: b, outputPadding: op, dilation: d, groups: group });
  let y = CONVT[n - 1]!(x, w, null, { stride: s, padding: 0, dilation: d, groups: group });
  const padBefore: number[] = [], padAfter: number[] = [];
  full.forEach((F, i) => {
    const out = F + op[i]! - b[i]! - e[i]!;
    if (out < 1) throw c.error(`output size ${out} along spatial dim ${i} is not positive`);
    const start = Math.max(0, b[i]!), stop = Math.min(F, b[i]! + out);
    y = K.slice(y, i + 2, start, Math.max(start, stop));
    padBefore.push(Math.max(0, -b[i]!));
    padAfter.push(out - Math.max(0, -b[i]!) - Math.max(0, stop - start));
  });
  if (padBefore.some((p) => p > 0) || padAfter.some((p) => p > 0)) y = K.pad(y, torchPads(padBefore, padAfter), 'constant', 0);
  if (bias) y = y.add(K.reshape(bias, [bias.shape[0]!, ...inSize.map(() => 1)]));
  return y;
}
