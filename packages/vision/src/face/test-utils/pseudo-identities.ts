/**
 * More identities than the training digits hold, for the one-shot test: with only 7 classes,
 * triplet training collapses each digit to a point and an unseen digit lands on whichever seen
 * cluster it half resembles, so two 7s end up far apart. New identities made only of seen digits
 * force the embedding to describe what strokes an image has and where, which also describes
 * digits it never saw. From the 7 seen digits (45 identities per seen digit):
 * - the digits themselves, and each rotated by 90°, 180°, 270° or mirrored left–right or
 *   top–bottom (fixed transforms, so a new identity each);
 * - for every ordered pair (a, b): the top half of a over the bottom half of b, the left half of a
 *   beside the right half of b, both overlaid, a and b shrunk side by side, and a and b squashed
 *   one above the other;
 * - each half (top, bottom, left, right) of a digit, enlarged to the full frame.
 * Each image is then warped by a small random affine map (rotation, scale, shear, shift), so that
 * identity means "same shape", not "same pixels". Nothing here looks at digits 7–9.
 */
import { tensor, type Generator, type Tensor } from '@kiln/tensor';

const S = 28, P = S * S;
type Dihedral = 'rot90' | 'rot180' | 'rot270' | 'flipLeftRight' | 'flipTopBottom';
const DIHEDRAL: readonly Dihedral[] = ['rot90', 'rot180', 'rot270', 'flipLeftRight', 'flipTopBottom'];
type PairKind = 'top-bottom' | 'left-right' | 'overlay' | 'side-by-side' | 'stacked';
const PAIRS: readonly PairKind[] = ['top-bottom', 'left-right', 'overlay', 'side-by-side', 'stacked'];
type Half = 'top' | 'bottom' | 'left' | 'right';
const HALVES: readonly Half[] = ['top', 'bottom', 'left', 'right'];

/** Number of identities made from `digits` seen digits (315 for 7). */
export const identityCount = (digits: number): number => digits * (1 + DIHEDRAL.length + HALVES.length) + PAIRS.length * digits * digits;

/**
 * Bilinear resize of the `h`×`w` window at (`y0`, `x0`) of a 28×28 image into an `oh`×`ow` block of
 * `out` at (`oy0`, `ox0`), as PyTorch's interpolate(mode='bilinear', align_corners=False) does
 * on the cropped window (source coordinates clamped to the window).
 */
function resizeInto(src: Float32Array, y0: number, x0: number, h: number, w: number, out: Float32Array, oy0: number, ox0: number, oh: number, ow: number, combine: (old: number, v: number) => number = (_, v) => v): void {
  const coord = (o: number, inSize: number, outSize: number) => {
    const s = Math.max((o + 0.5) * (inSize / outSize) - 0.5, 0);
    const i0 = Math.min(Math.floor(s), inSize - 1);
    return { i0, i1: Math.min(i0 + 1, inSize - 1), f: s - i0 };
  };
  for (let oy = 0; oy < oh; oy++) {
    const cy = coord(oy, h, oh);
    for (let ox = 0; ox < ow; ox++) {
      const cx = coord(ox, w, ow);
      const at = (y: number, x: number) => src[(y0 + y) * S + x0 + x]!;
      const v = (1 - cy.f) * ((1 - cx.f) * at(cy.i0, cx.i0) + cx.f * at(cy.i0, cx.i1)) + cy.f * ((1 - cx.f) * at(cy.i1, cx.i0) + cx.f * at(cy.i1, cx.i1));
      const k = (oy0 + oy) * S + ox0 + ox;
      out[k] = combine(out[k]!, v);
    }
  }
}

/** `src` (28×28) rotated or mirrored; rotations are counter-clockwise, as torch.rot90 on (H, W). */
function dihedral(src: Float32Array, t: Dihedral): Float32Array {
  const out = new Float32Array(P);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const [sy, sx] = t === 'rot90' ? [x, S - 1 - y] : t === 'rot180' ? [S - 1 - y, S - 1 - x] : t === 'rot270' ? [S - 1 - x, y] : t === 'flipLeftRight' ? [y, S - 1 - x] : [S - 1 - y, x];
      out[y * S + x] = src[sy * S + sx]!;
    }
  }
  return out;
}

/** One image (784 floats) of identity `id`, from `pools[d]` (image indices of digit d) in `pixels` ([N, 784] flat). */
function compose(id: number, pools: number[][], pixels: Float32Array, g: Generator): Float32Array {
  const d = pools.length;
  const pick = (digit: number) => { const list = pools[digit]!; const r = list[g.randint(0, list.length)]!; return pixels.subarray(r * P, (r + 1) * P); };
  if (id < d) return Float32Array.from(pick(id));
  let k = id - d;
  if (k < DIHEDRAL.length * d) return dihedral(pick(k % d), DIHEDRAL[Math.floor(k / d)]!);
  k -= DIHEDRAL.length * d;
  if (k < HALVES.length * d) {
    const half = HALVES[Math.floor(k / d)]!, src = pick(k % d), out = new Float32Array(P);
    const [y0, x0, h, w] = half === 'top' ? [0, 0, S / 2, S] : half === 'bottom' ? [S / 2, 0, S / 2, S] : half === 'left' ? [0, 0, S, S / 2] : [0, S / 2, S, S / 2];
    resizeInto(src, y0, x0, h, w, out, 0, 0, S, S);
    return out;
  }
  k -= HALVES.length * d;
  const kind = PAIRS[Math.floor(k / (d * d))]!, a = pick(Math.floor((k % (d * d)) / d)), b = pick(k % d);
  if (kind === 'side-by-side' || kind === 'stacked') {
    // both digits shrunk: 14×14 each, centred vertically; or 14×18 each, one above the other
    const out = new Float32Array(P), max = (o: number, v: number) => Math.max(o, v);
    if (kind === 'side-by-side') { resizeInto(a, 0, 0, S, S, out, 7, 0, 14, 14); resizeInto(b, 0, 0, S, S, out, 7, 14, 14, 14, max); }
    else { resizeInto(a, 0, 0, S, S, out, 0, 5, 14, 18); resizeInto(b, 0, 0, S, S, out, 14, 5, 14, 18, max); }
    return out;
  }
  const out = Float32Array.from(a);
  for (let i = 0; i < P; i++) {
    const y = Math.floor(i / S), x = i % S;
    if (kind === 'top-bottom' ? y >= S / 2 : kind === 'left-right' ? x >= S / 2 : true) {
      out[i] = kind === 'overlay' ? Math.max(out[i]!, b[i]!) : b[i]!;
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

/** Pixel shifts used for test-time augmentation: the image itself and its 1-pixel shifts. */
export const TTA_SHIFTS: readonly (readonly [number, number])[] = [[0, 0], [0, 1], [0, -1], [1, 0], [-1, 0]];

/** `images` [N, 1, 28, 28] (flat `pixels`) shifted by (dy, dx) pixels, zeros shifted in. */
export function shiftImages(pixels: Float32Array, n: number, dy: number, dx: number): Tensor {
  const out = new Float32Array(n * P);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < S; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= S) continue;
      for (let x = 0; x < S; x++) {
        const sx = x - dx;
        if (sx >= 0 && sx < S) out[i * P + y * S + x] = pixels[i * P + sy * S + sx]!;
      }
    }
  }
  return tensor(out, { shape: [n, 1, S, S] });
}
