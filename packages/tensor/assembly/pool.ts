// 2×2 max pooling with stride 2 and no padding — the pooling of nearly every CNN — four outputs
// at a time: the even and odd columns of two input rows are split with shuffles, and each of
// the four taps replaces the running maximum where it is larger or is the first NaN, exactly
// the reference's rule (first maximum wins ties; NaN propagates). The argmax is the flat index
// of the chosen input inside its (batch, channel) plane, as maxPoolBackward expects.

/**
 * x: `planes` planes of H×W; out and idx: planes of OH×OW, with 2·OH ≤ H and 2·OW ≤ W.
 */
export function maxPool2x2(x: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32, out: usize, idx: usize): void {
  const lanes = i32x4(0, 2, 4, 6);
  const tap1 = i32x4.splat(1);
  const tap2 = i32x4.splat(W);
  const tap3 = i32x4.splat(W + 1);
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>(p * H * W) * 4;
    let o = <usize>(p * OH * OW) * 4;
    for (let oh = 0; oh < OH; oh++) {
      const r0 = xp + <usize>(2 * oh * W) * 4;
      const r1 = r0 + <usize>W * 4;
      const rowBase = 2 * oh * W;
      let ow = 0;
      for (; ow + 4 <= OW; ow += 4) {
        const a0 = v128.load(r0 + <usize>(2 * ow) * 4);
        const a1 = v128.load(r0 + <usize>(2 * ow) * 4, 16);
        const b0 = v128.load(r1 + <usize>(2 * ow) * 4);
        const b1 = v128.load(r1 + <usize>(2 * ow) * 4, 16);
        const t0 = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
        const t1 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        const t2 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
        const t3 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        let best = t0;
        let at = i32x4.add(i32x4.splat(rowBase + 2 * ow), lanes);
        const base = at;
        // take = c > best, or c is NaN while best is not.
        let take = v128.or(f32x4.gt(t1, best), v128.and(f32x4.ne(t1, t1), f32x4.eq(best, best)));
        best = v128.bitselect(t1, best, take);
        at = v128.bitselect(i32x4.add(base, tap1), at, take);
        take = v128.or(f32x4.gt(t2, best), v128.and(f32x4.ne(t2, t2), f32x4.eq(best, best)));
        best = v128.bitselect(t2, best, take);
        at = v128.bitselect(i32x4.add(base, tap2), at, take);
        take = v128.or(f32x4.gt(t3, best), v128.and(f32x4.ne(t3, t3), f32x4.eq(best, best)));
        best = v128.bitselect(t3, best, take);
        at = v128.bitselect(i32x4.add(base, tap3), at, take);
        v128.store(out + o, best);
        v128.store(idx + o, at);
        o += 16;
      }
      for (; ow < OW; ow++) {
        const i0 = rowBase + 2 * ow;
        let best = load<f32>(xp + <usize>i0 * 4);
        let bi = i0;
        for (let t = 1; t < 4; t++) {
          const ii = i0 + (t & 1) + (t >> 1) * W;
          const v = load<f32>(xp + <usize>ii * 4);
          if (v > best || (v != v && best == best)) { best = v; bi = ii; }
        }
        store<f32>(out + o, best);
        store<i32>(idx + o, bi);
        o += 4;
      }
    }
  }
}
