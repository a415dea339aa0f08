/** Printing tensors the way PyTorch users expect to read them. */
import type { Tensor } from './tensor.js';

const EDGE = 3;
const LIMIT = 1000;

export function formatTensor(t: Tensor): string {
  const data = t.dataSync();
  const summarise = data.length > LIMIT;
  const isFloat = t.dtype === 'float32' || t.dtype === 'float64';
  const cell = (v: number): string => {
    if (t.dtype === 'bool') return v ? 'true' : 'false';
    if (!isFloat) return String(v);
    if (!Number.isFinite(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a >= 1e6 || a < 1e-4) ? v.toExponential(4) : v.toFixed(4);
  };
  const strides: number[] = [];
  let s = 1;
  for (let i = t.ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= t.shape[i]!;
  }
  const render = (dim: number, offset: number, indent: string): string => {
    if (dim === t.ndim) return cell(data[offset]!);
    const n = t.shape[dim]!;
    const idx = summarise && n > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
    const parts = idx.map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * strides[dim]!, indent + ' ')));
    const sep = dim === t.ndim - 1 ? ', ' : ',\n' + indent + ' ';
    return '[' + parts.join(sep) + ']';
  };
  const grad = t.requiresGrad ? ', requiresGrad=true' : '';
  return `tensor(${render(0, 0, '       ')}, shape=[${t.shape.join(',')}], dtype=${t.dtype}${grad})`;
}
