/**
 * More identities than the training digits hold, for the one-shot test: with only 7 classes,
 * triplet training collapses each digit to a point and an unseen digit lands on whichever seen
 * cluster it half resembles, so two 7s end up far apart. Composites of two seen digits — the top
 * half of one over the bottom half of another, the left half beside the right half, or both
 * strokes overlaid — are new identities made of seen parts (3 × 49 of them beside the 7 digits),
 * so the embedding has to describe what parts a digit has and where, which also describes
 * digits it never saw. Each image is then warped by a small random affine map (rotation, scale,
 * shear, shift), so that identity means "same shape", not "same pixels". Nothing here looks at
 * digits 7–9.
 */
import { tensor, type Generator, type Tensor } from '@kiln/tensor';

const S = 28, P = S * S;
export type CompositeKind = 'top-bottom' | 'left-right' | 'overlay';
const KINDS: readonly CompositeKind[] = ['top-bottom', 'left-right', 'overlay'];

/** Number of identities made from `digits` seen digits: the digits and 3 composites of every ordered pair. */
export const identityCount = (digits: number): number => digits + KINDS.length * digits * digits;

/** One image (784 floats) of identity `id`, from `pools[d]` (image indices of digit d) in `pixels` ([N, 784] flat). */
function compose(id: number, pools: number[][], pixels: Float32Array, g: Generator): Float32Array {
  const d = pools.length;
  const pick = (digit: number) => { const list = pools[digit]!; const r = list[g.randint(0, list.length)]!; return pixels.subarray(r * P, (r + 1) * P); };
  if (id < d) return Float32Array.from(pick(id));
  const k = id - d, kind = KINDS[Math.floor(k / (d * d))]!, a = Math.floor((k % (d * d)) / d), b = k % d;
  const out = Float32Array.from(pick(a)), other = pick(b);
  for (let i = 0; i < P; i++) {
    const y = Math.floor(i / S), x = i % S;
    if (kind === 'top-bottom' ? y >= S / 2 : kind === 'left-right' ? x >= S / 2 : true) {
      out[i] = kind === 'overlay' ? Math.max(out[i]!, other[i]!) : other[i]!;
    }
  }
  return out;
}

/**
 * Random affine warp of a 28×28 image, bilinear with zeros outside (PyTorch's affine_grid +
 * grid_sample with align_corners = false): rotation ±15°·s, scale ±10%·s, shear ±0.2·s, shift
 * ±12%·s of the half-width.
 */
function warp(src: Float32Array, g: Generator, s: number): Float32Array {
  const u = () => 2 * g.random() - 1;
  const ang = 0.26 * s * u(), sc = 1 + 0.1 * s * u(), sh = 0.2 * s * u(), tx = 0.12 * s * u(), ty = 0.12 * s * u();
  const c = Math.cos(ang) / sc, sn = Math.sin(ang) / sc;
  const out = new Float32Array(P);
  const at = (x: number, y: number) => (x >= 0 && x < S && y >= 0 && y < S ? src[y * S + x]! : 0);
  for (let oy = 0; oy < S; oy++) {
    const ny = (2 * oy + 1) / S - 1;
    for (let ox = 0; ox < S; ox++) {
      const nx = (2 * ox + 1) / S - 1;
      const ix = ((c * nx + (sh - sn) * ny + tx + 1) * S - 1) / 2, iy = ((sn * nx + c * ny + ty + 1) * S - 1) / 2;
      const x0 = Math.floor(ix), y0 = Math.floor(iy), fx = ix - x0, fy = iy - y0;
      out[oy * S + ox] = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
    }
  }
  return out;
}

/**
 * A P × K batch for online triplet mining: `identities` distinct identities drawn from all of
 * {@link identityCount}, `perIdentity` warped images each. Returns images [P·K, 1, 28, 28] and
 * int32 identity labels [P·K].
 */
export function pseudoIdentityBatch(pools: number[][], pixels: Float32Array, g: Generator, identities: number, perIdentity: number, augment = 1): { x: Tensor; y: Tensor } {
  const total = identityCount(pools.length);
  const ids = Array.from(g.permutation(total)).slice(0, identities);
  const n = identities * perIdentity, x = new Float32Array(n * P), y = new Int32Array(n);
  let k = 0;
  for (const id of ids) {
    for (let j = 0; j < perIdentity; j++, k++) {
      x.set(augment > 0 ? warp(compose(id, pools, pixels, g), g, augment) : compose(id, pools, pixels, g), k * P);
      y[k] = id;
    }
  }
  return { x: tensor(x, { shape: [n, 1, S, S] }), y: tensor(y, { dtype: 'int32' }) };
}
