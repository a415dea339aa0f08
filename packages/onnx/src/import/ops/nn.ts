/** Convolution, pooling, normalisation and resizing. */
import * as K from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import type { NodeContext, OpHandler } from '../context.js';

const CONV = [K.conv1d, K.conv2d, K.conv3d];
const CONVT = [K.convTranspose1d, K.convTranspose2d, K.convTranspose3d];
const MAXPOOL = [K.maxPool1d, K.maxPool2d, K.maxPool3d];
const AVGPOOL = [K.avgPool1d, K.avgPool2d, K.avgPool3d];

function spatial(c: NodeContext, x: Tensor): number {
  const n = x.ndim - 2;
  if (n < 1 || n > 3) throw c.error(`expects an N×C×(1–3 spatial dims) input, got shape [${x.shape.join(', ')}]`);
  return n;
}

/** Symmetric pads become the op's padding; asymmetric ones an explicit Pad first. */
function splitPads(c: NodeContext, x: Tensor, n: number, padValue: number): { x: Tensor; padding: number[] } {
  c.only('auto_pad', ['NOTSET', 'VALID']);
  const pads = c.intList('pads', new Array<number>(2 * n).fill(0));
  const begin = pads.slice(0, n), end = pads.slice(n);
  if (begin.every((p, i) => p === end[i])) return { x, padding: begin };
  const torchPads: number[] = [];
  for (let d = n - 1; d >= 0; d--) torchPads.push(begin[d]!, end[d]!);
  return { x: K.pad(x, torchPads, 'constant', padValue), padding: begin.map(() => 0) };
}

export const nnOps: Record<string, OpHandler> = {
  Conv: (c) => {
    const x0 = c.input(0), w = c.input(1);
    const n = spatial(c, x0);
    const { x, padding } = splitPads(c, x0, n, 0);
    return CONV[n - 1]!(x, w, c.optionalInput(2), {
      stride: c.intList('strides', new Array<number>(n).fill(1)), padding,
      dilation: c.intList('dilations', new Array<number>(n).fill(1)), groups: c.int('group', 1),
    });
  },
  ConvTranspose: (c) => {
    const x = c.input(0), w = c.input(1);
    const n = spatial(c, x);
    c.only('auto_pad', ['NOTSET']);
    if (c.has('output_shape')) throw c.error('attribute output_shape is not supported; give pads/output_padding');
    const pads = c.intList('pads', new Array<number>(2 * n).fill(0));
    if (pads.slice(0, n).some((p, i) => p !== pads[n + i])) throw c.error(`asymmetric pads [${pads.join(', ')}] are not supported`);
    return CONVT[n - 1]!(x, w, c.optionalInput(2), {
      stride: c.intList('strides', new Array<number>(n).fill(1)), padding: pads.slice(0, n),
      outputPadding: c.intList('output_padding', new Array<number>(n).fill(0)),
      dilation: c.intList('dilations', new Array<number>(n).fill(1)), groups: c.int('group', 1),
    });
  },
  MaxPool: (c) => {
    const x0 = c.input(0);
    const n = spatial(c, x0);
    if ((c.node.output ?? []).filter(Boolean).length > 1) throw c.error('the Indices output is not supported');
    c.only('storage_order', [0]);
    const { x, padding } = splitPads(c, x0, n, -Infinity);
    const k = c.intList('kernel_shape');
    return MAXPOOL[n - 1]!(x, k, {
      stride: c.intList('strides', new Array<number>(n).fill(1)), padding,
      dilation: c.intList('dilations', new Array<number>(n).fill(1)), ceilMode: c.int('ceil_mode', 0) === 1,
    });
  },
  AveragePool: (c) => {
    const x0 = c.input(0);
    const n = spatial(c, x0);
    const countIncludePad = c.int('count_include_pad', 0) === 1;
    const pads = c.intList('pads', new Array<number>(2 * n).fill(0));
    if (!countIncludePad && pads.slice(0, n).some((p, i) => p !== pads[n + i])) throw c.error(`asymmetric pads [${pads.join(', ')}] with count_include_pad=0 are not supported`);
    const { x, padding } = splitPads(c, x0, n, 0);
    return AVGPOOL[n - 1]!(x, c.intList('kernel_shape'), {
      stride: c.intList('strides', new Array<number>(n).fill(1)), padding, ceilMode: c.int('ceil_mode', 0) === 1, countIncludePad,
    });
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
    if (c.int('training_mode', 0)) throw c.error('training_mode=1 is not supported (import exports eval-form BatchNormalization)');
    const x = c.input(0), scale = c.input(1), bias = c.input(2), mean = c.input(3), v = c.input(4);
    const shape = [x.shape[1]!, ...x.shape.slice(2).map(() => 1)];
    const r = (t: Tensor) => K.reshape(t, shape);
    const inv = K.rsqrt(r(v).add(c.float('epsilon', 1e-5)));
    return x.sub(r(mean)).mul(inv).mul(r(scale)).add(r(bias));
  },
  LayerNormalization: (c) => {
    const x = c.input(0);
    const axis = c.int('axis', -1);
    const a = axis < 0 ? axis + x.ndim : axis;
    const dims = x.shape.slice(a).map((_, i) => a + i);
    const mu = K.mean(x, dims, true);
    const xc = x.sub(mu);
    const varr = K.mean(xc.square(), dims, true);
    let y = xc.mul(K.rsqrt(varr.add(c.float('epsilon', 1e-5)))).mul(c.input(1));
    const b = c.optionalInput(2);
    if (b) y = y.add(b);
    return y;
  },
  Resize: (c) => {
    const x = c.input(0);
    const n = spatial(c, x);
    const mode = c.string('mode', 'nearest');
    const ctm = c.string('coordinate_transformation_mode', 'half_pixel');
    const scalesT = c.optionalInput(2), sizesT = c.optionalInput(3);
    const scales = scalesT && scalesT.numel() > 0 ? Array.from(scalesT.dataSync(), Number) : null;
    const sizes = sizesT && sizesT.numel() > 0 ? c.ints(3) : null;
    if (!scales && !sizes) throw c.error('needs scales or sizes');
    const opts: K.InterpolateOptions = sizes ? { size: sizes.slice(2) } : { scaleFactor: scales!.slice(2) };
    if (mode === 'nearest') {
      if (ctm !== 'asymmetric' || c.string('nearest_mode', 'round_prefer_floor') !== 'floor') {
        throw c.error(`nearest Resize is supported with coordinate_transformation_mode=asymmetric, nearest_mode=floor (PyTorch's rule), got ${ctm}/${c.string('nearest_mode', 'round_prefer_floor')}`);
      }
      return K.interpolate(x, { ...opts, mode: 'nearest' });
    }
    if (mode === 'linear') {
      if (ctm !== 'half_pixel' && ctm !== 'pytorch_half_pixel' && ctm !== 'align_corners') throw c.error(`linear Resize with coordinate_transformation_mode=${ctm} is not supported`);
      return K.interpolate(x, { ...opts, mode: (['linear', 'bilinear', 'trilinear'] as const)[n - 1]!, alignCorners: ctm === 'align_corners' });
    }
    throw c.error(`Resize mode '${mode}' is not supported`);
  },
};
