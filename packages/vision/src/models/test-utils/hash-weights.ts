/**
 * Deterministic weights shared with scripts/gen_torchvision_fixtures.py (keep the two in step):
 * element i of tensor `key` is u = fmix32(i·0x9E3779B1 + fnv1a(key)) >>> 8, scaled to [0, 1) —
 * exact in float64 on both sides, so PyTorch and Kiln hold bit-identical float32 weights and the
 * fixtures need only the reference outputs.
 */
import type { StateDict } from '@kiln/nn';
import { noGrad, Tensor } from '@kiln/tensor';

function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(key)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** Fills `out` with the hash uniforms in [0, 1) of tensor `key`. */
export function hashUniform(key: string, out: Float64Array | Float32Array, map: (u: number) => number = (u) => u): void {
  const seed = fnv1a(key);
  for (let i = 0; i < out.length; i++) {
    let x = (Math.imul(i, 0x9e3779b1) + seed) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b) >>> 0;
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35) >>> 0;
    x ^= x >>> 16;
    out[i] = map((x >>> 8) / 16777216);
  }
}

/** The value rule of the generator script for one state-dict entry. */
export function hashValueRule(key: string, shape: readonly number[], isBn: boolean): (u: number) => number {
  if (key.endsWith('running_var')) return (u) => 0.5 + u;
  if (key.endsWith('running_mean')) return (u) => (2 * u - 1) * 0.2;
  if (isBn && key.endsWith('weight')) return (u) => 0.5 + u;
  if (isBn && key.endsWith('bias')) return (u) => (2 * u - 1) * 0.5;
  if (key.endsWith('bias')) return (u) => (2 * u - 1) * 0.1;
  const n = shape.reduce((a, b) => a * b, 1);
  const scale = Math.sqrt(6 / (n / shape[0]!));
  return (u) => (2 * u - 1) * scale;
}

/** Writes the hash weights into every floating parameter and buffer of `sd` in place. */
export function hashFill(sd: StateDict): void {
  const keys = new Set(Object.keys(sd));
  noGrad(() => {
    for (const [k, t] of Object.entries(sd)) {
      if (t.dtype !== 'float32' && t.dtype !== 'float64') continue;
      const isBn = keys.has(`${k.slice(0, k.lastIndexOf('.'))}.running_mean`);
      hashUniform(k, t.dataSync() as Float32Array, hashValueRule(k, t.shape, isBn));
      t.markModified();
    }
  });
}

/** A state dict of fresh hash-valued float32 tensors with the keys and shapes of `like`. */
export function hashStateDict(like: StateDict): StateDict {
  const out: StateDict = {};
  for (const [k, t] of Object.entries(like)) out[k] = t.dtype === 'float32' || t.dtype === 'float64' ? new Tensor(new Float32Array(t.numel()), t.shape, 'float32') : t;
  hashFill(out);
  return out;
}

/** The generator's input tensor: (2u − 1) with key 'input'. */
export function hashInput(shape: readonly number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  hashUniform('input', data, (u) => 2 * u - 1);
  return new Tensor(data, shape, 'float32');
}
