/** Index-driven ops: gather/scatterAdd (torch semantics), indexSelect and oneHot. */
import { kernels } from '../backend.js';
import { formatShape, normalizeDim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, empty, finish } from './core.js';

function indexArray(op: string, index: Tensor, bound: number, dim: number): Int32Array {
  checkTensor(op, 'index', index);
  if (index.dtype !== 'int32') throw new Error(`Kiln: ${op}: index must be int32, got ${index.dtype}`);
  const data = index._data as Int32Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= bound) {
      throw new Error(`Kiln: ${op}: index ${v} is out of range for dim ${dim} of size ${bound}`);
    }
  }
  return data;
}

function checkIndexShape(op: string, x: Tensor, index: Tensor, d: number): void {
  checkTensor(op, 'index', index);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i]!)) {
    throw new Error(
      `Kiln: ${op}: index shape ${formatShape(index.shape)} must have the rank of ${formatShape(x.shape)} and no larger size outside dim ${d}`,
    );
  }
}

/** out[i][j] = x[i][index[i][j]] for dim 1, and likewise for any dim (torch.gather). */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor('gather', 'x', x);
  const d = normalizeDim('gather', dim, x.ndim);
  checkIndexShape('gather', x, index, d);
  const idx = indexArray('gather', index, x.shape[d]!, d);
  const out = empty(index.shape, x.dtype);
  kernels().gather(x._data, x.shape, d, idx, index.shape, out._data);
  return finish(out, 'gather', [x, index], { dim: d }, (g) => {
    const gx = empty(x.shape, g.dtype);
    kernels().scatterAdd(gx._data, x.shape, d, idx, index.shape, g._data);
    return [gx, null];
  });
}

/** A copy of x with src added at index along dim (out-of-place torch.scatter_add). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkTensor('scatterAdd', 'x', x);
  checkTensor('scatterAdd', 'src', src);
  const d = normalizeDim('scatterAdd', dim, x.ndim);
  checkIndexShape('scatterAdd', x, index, d);
  if (src.ndim !== index.ndim || index.shape.some((s, i) => s > src.shape[i]!)) {
    throw new Error(`Kiln: scatterAdd: src shape ${formatShape(src.shape)} must cover index shape ${formatShape(index.shape)}`);
  }
  const idx = indexArray('scatterAdd', index, x.shape[d]!, d);
  const source = src.dtype === x.dtype ? src : src.to(x.dtype);
  // Only the leading index-shaped block of src takes part; gather it out when src is larger.
  const used = source.shape.every((s, i) => s === index.shape[i]) ? source : sliceTo(source, index.shape);
  const out = empty(x.shape, x.dtype);
  out._data.set(x._data);
  kernels().scatterAdd(out._data, x.shape, d, idx, index.shape, used._data);
  return finish(out, 'scatterAdd', [x, index, used], { dim: d }, (g) => {
    const gs = empty(index.shape, g.dtype);
    kernels().gather(g._data, x.shape, d, idx, index.shape, gs._data);
    return [g, null, gs];
  });
}

function sliceTo(t: Tensor, shape: readonly number[]): Tensor {
  let y = t;
  shape.forEach((s, i) => {
    y = y.slice(i, 0, s);
  });
  return y;
}

/** The slices at `index` (1-D int32) along `dim` (torch.index_select; an Embedding lookup on dim 0). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor('indexSelect', 'x', x);
  checkTensor('indexSelect', 'index', index);
  const d = normalizeDim('indexSelect', dim, x.ndim);
  if (index.ndim > 1) throw new Error(`Kiln: indexSelect: index must be 1-D, got shape ${formatShape(index.shape)}`);
  const idx = indexArray('indexSelect', index, x.shape[d]!, d);
  const shape = [...x.shape];
  shape[d] = idx.length;
  const out = empty(shape, x.dtype);
  kernels().indexSelect(x._data, x.shape, d, idx, out._data);
  return finish(out, 'indexSelect', [x, index], { dim: d }, (g) => {
    const gx = empty(x.shape, g.dtype);
    kernels().indexAdd(gx._data, x.shape, d, idx, g._data);
    return [gx, null];
  });
}

/** One-hot encoding of int32 class indices: shape [...indices.shape, numClasses], dtype float32. */
export function oneHot(indices: Tensor, numClasses: number): Tensor {
  checkTensor('oneHot', 'indices', indices);
  if (indices.dtype !== 'int32') throw new Error(`Kiln: oneHot: indices must be int32, got ${indices.dtype}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`Kiln: oneHot: numClasses must be a positive integer, got ${numClasses}`);
  }
  const idx = indexArray('oneHot', indices, numClasses, -1);
  const out = empty([...indices.shape, numClasses], 'float32');
  for (let i = 0; i < idx.length; i++) out._data[i * numClasses + idx[i]!] = 1;
  return finish(out, 'oneHot', [indices], { numClasses });
}
