// Max pooling for Kiln's wasm backend, threaded by (batch, channel) plane.
//
// The 2×2, stride-2, unpadded window — the pooling of nearly every CNN — runs four outputs at a
// time: the even and odd columns of two input rows are split with shuffles, and each of the
// four taps replaces the running maximum where it is larger or is the first NaN, exactly the
// reference's rule (first maximum wins ties; NaN propagates). The argmax is the flat index of
// the chosen input inside its plane. Its backward writes every input gradient of the plane
// (dy where the tap was chosen, zero elsewhere), so nothing is zeroed or scattered first.
// Any other 2-D window (ResNet's 3×3, stride 2, padding 1) runs forward four outputs per
// vector, each lane over its window's taps inside the input in the reference's order (masked,
// not branched). Any other window's backward scatters dy
// through the saved indices, plane by plane. Planes are independent, so results do not depend
// on the thread count.

let H: i32, W: i32, OH: i32, OW: i32;
let KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32;

/**
 * take = c > best, or c is NaN while best is not: the reference's rule, per lane. As
 * best is a number and not c ≤ best (false for a NaN c): two compares and one mask.
 */
@inline function takes(c: v128, best: v128): v128 {
  return v128.andnot(f32x4.eq(best, best), f32x4.le(c, best));
}

/** One plane: x [H, W] → out, idx [OH, OW] (2·OH ≤ H, 2·OW ≤ W). */
function forward2x2(xp: usize, out: usize, idx: usize): void {
  const lanes = i32x4(0, 2, 4, 6);
  const tap1 = i32x4.splat(1);
  const tap2 = i32x4.splat(W);
  const tap3 = i32x4.splat(W + 1);
  let o: usize = 0;
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
      const base = i32x4.add(i32x4.splat(rowBase + 2 * ow), lanes);
      let at = base;
      let take = takes(t1, best);
      best = v128.bitselect(t1, best, take);
      at = v128.bitselect(i32x4.add(base, tap1), at, take);
      take = takes(t2, best);
      best = v128.bitselect(t2, best, take);
      at = v128.bitselect(i32x4.add(base, tap2), at, take);
      take = takes(t3, best);
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

/** First tap k in [0, taps) whose input start + k·d is ≥ 0 (taps when none). */
@inline function tapLo(start: i32, d: i32, taps: i32): i32 {
  return start >= 0 ? 0 : min(taps, (d - 1 - start) / d);
}

/** One past the last tap k whose input start + k·d is < size (at least lo). */
@inline function tapHi(start: i32, d: i32, taps: i32, size: i32, lo: i32): i32 {
  const last = size - 1 - start;
  return max(lo, last < 0 ? 0 : min(taps, last / d + 1));
}

/**
 * One plane of any 2-D window's forward: out and idx [OH, OW] from x [H, W], four outputs of a
 * row per vector. Each lane scans its window's taps in the reference's order, skipping those
 * outside the input (a lane mask for columns; rows outside are skipped for all lanes): the
 * first tap inside is taken, then a tap replaces the maximum where it is larger or is the
 * first NaN — NaN propagates, the first maximum wins ties, and a window with no tap inside
 * gives −∞ and index −1, as the reference. Taps outside are still loaded (from the row before
 * or after, or the neighbouring buffers: the memory around a staged plane is always there) and
 * then masked, so there is no branch per tap.
 */
function forwardWindow(xp: usize, out: usize, idx: usize): void {
  const step = i32x4(0, SW, 2 * SW, 3 * SW);
  const zero = i32x4.splat(0);
  const width = i32x4.splat(W);
  const none = i32x4.splat(-1);
  const low = f32x4.splat(-Infinity);
  const vectors = OW >> 2;
  for (let oh = 0; oh < OH; oh++) {
    const ih0 = oh * SH - PH;
    const khLo = tapLo(ih0, DH, KH);
    const khHi = tapHi(ih0, DH, KH, H, khLo);
    const o = <usize>(oh * OW) * 4;
    // The row's maxima and indices accumulate in place, tap by tap over all its vectors: the
    // vectors are independent, where one vector's taps form a chain of dependent selects.
    for (let v = 0; v < vectors; v++) {
      v128.store(out + o + <usize>v * 16, low);
      v128.store(idx + o + <usize>v * 16, none);
    }
    for (let kh = khLo; kh < khHi; kh++) {
      const rowi = (ih0 + kh * DH) * W;
      for (let kw = 0; kw < KW; kw++) {
        for (let v = 0; v < vectors; v++) {
          const iw = v * 4 * SW - PW + kw * DW;
          const col = i32x4.add(i32x4.splat(iw), step);
          const inside = v128.and(i32x4.ge_s(col, zero), i32x4.lt_s(col, width));
          const p = xp + <isize>(rowi + iw) * 4;
          let c: v128;
          if (SW == 2) {
            c = v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
          } else if (SW == 1) {
            c = v128.load(p);
          } else {
            c = f32x4.splat(load<f32>(p));
            c = f32x4.replace_lane(c, 1, load<f32>(p + <usize>SW * 4));
            c = f32x4.replace_lane(c, 2, load<f32>(p + <usize>SW * 8));
            c = f32x4.replace_lane(c, 3, load<f32>(p + <usize>SW * 12));
          }
          const bp = out + o + <usize>v * 16;
          const ip = idx + o + <usize>v * 16;
          const best = v128.load(bp);
          const at = v128.load(ip);
          // The first tap inside (no index yet) is taken whatever its value.
          const take = v128.and(inside, v128.or(i32x4.eq(at, none), takes(c, best)));
          v128.store(bp, v128.bitselect(c, best, take));
          v128.store(ip, v128.bitselect(i32x4.add(i32x4.splat(rowi), col), at, take));
        }
      }
    }
    let ow = vectors * 4;
    for (; ow < OW; ow++) {
      const iw0 = ow * SW - PW;
      const kwLo = tapLo(iw0, DW, KW);
      const kwHi = tapHi(iw0, DW, KW, W, kwLo);
      let best: f32 = -Infinity;
      let bi = -1;
      for (let kh = khLo; kh < khHi; kh++) {
        const rowi = (ih0 + kh * DH) * W + iw0;
        for (let kw = kwLo; kw < kwHi; kw++) {
          const ii = rowi + kw * DW;
          const v = load<f32>(xp + <usize>ii * 4);
          if (v > best || (v != v && best == best) || bi == -1) {
            best = v;
            bi = ii;
          }
        }
      }
      store<f32>(out + o + <usize>ow * 4, best);
      store<i32>(idx + o + <usize>ow * 4, bi);
    }
  }
}

/**
 * One plane of the 2×2 forward without indices (inference): the same selection as forward2x2 —
 * NaN propagates, the first maximum wins ties (so −0 before +0 stays −0) —, values only.
 */
function forwardValues2x2(xp: usize, out: usize): void {
  let o: usize = 0;
  for (let oh = 0; oh < OH; oh++) {
    const r0 = xp + <usize>(2 * oh * W) * 4;
    const r1 = r0 + <usize>W * 4;
    let ow = 0;
    for (; ow + 4 <= OW; ow += 4) {
      const a0 = v128.load(r0 + <usize>(2 * ow) * 4);
      const a1 = v128.load(r0 + <usize>(2 * ow) * 4, 16);
      const b0 = v128.load(r1 + <usize>(2 * ow) * 4);
      const b1 = v128.load(r1 + <usize>(2 * ow) * 4, 16);
      let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
      const t1 = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
      const t2 = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
      const t3 = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
      best = v128.bitselect(t1, best, takes(t1, best));
      best = v128.bitselect(t2, best, takes(t2, best));
      best = v128.bitselect(t3, best, takes(t3, best));
      v128.store(out + o, best);
      o += 16;
    }
    for (; ow < OW; ow++) {
      const i0 = 2 * oh * W + 2 * ow;
      let best = load<f32>(xp + <usize>i0 * 4);
      for (let t = 1; t < 4; t++) {
        const v = load<f32>(xp + <usize>(i0 + (t & 1) + (t >> 1) * W) * 4);
        if (v > best || (v != v && best == best)) best = v;
      }
      store<f32>(out + o, best);
      o += 4;
    }
  }
}

/**
 * One plane of the 2×2 backward: dx [H, W] = dy [OH, OW] routed to the chosen tap of each
 * window, zero elsewhere. `0 + dy` (not dy itself) keeps the reference's sum: −0 becomes +0.
 */
function backward2x2(dy: usize, idx: usize, dx: usize): void {
  const lanes = i32x4(0, 2, 4, 6);
  const zero = f32x4.splat(0);
  const one = i32x4.splat(1);
  const w = i32x4.splat(W);
  for (let oh = 0; oh < OH; oh++) {
    const r0 = dx + <usize>(2 * oh * W) * 4;
    const r1 = r0 + <usize>W * 4;
    const rowBase = 2 * oh * W;
    const g = dy + <usize>(oh * OW) * 4;
    const ix = idx + <usize>(oh * OW) * 4;
    let ow = 0;
    for (; ow + 4 <= OW; ow += 4) {
      // 0 + dy once, then masked: a tap not chosen gets +0 either way.
      const d = f32x4.add(zero, v128.load(g + <usize>ow * 4));
      const at = v128.load(ix + <usize>ow * 4);
      const base = i32x4.add(i32x4.splat(rowBase + 2 * ow), lanes);
      const t0 = v128.and(d, i32x4.eq(at, base));
      const t1 = v128.and(d, i32x4.eq(at, i32x4.add(base, one)));
      const t2 = v128.and(d, i32x4.eq(at, i32x4.add(base, w)));
      const t3 = v128.and(d, i32x4.eq(at, i32x4.add(base, i32x4.add(w, one))));
      const p0 = r0 + <usize>(2 * ow) * 4;
      const p1 = r1 + <usize>(2 * ow) * 4;
      v128.store(p0, v128.shuffle<f32>(t0, t1, 0, 4, 1, 5));
      v128.store(p0, v128.shuffle<f32>(t0, t1, 2, 6, 3, 7), 16);
      v128.store(p1, v128.shuffle<f32>(t2, t3, 0, 4, 1, 5));
      v128.store(p1, v128.shuffle<f32>(t2, t3, 2, 6, 3, 7), 16);
    }
    for (; ow < OW; ow++) {
      const v = load<f32>(g + <usize>ow * 4);
      const at = load<i32>(ix + <usize>ow * 4);
      const i0 = rowBase + 2 * ow;
      store<f32>(dx + <usize>i0 * 4, at == i0 ? 0 + v : 0);
      store<f32>(dx + <usize>(i0 + 1) * 4, at == i0 + 1 ? 0 + v : 0);
      store<f32>(dx + <usize>(i0 + W) * 4, at == i0 + W ? 0 + v : 0);
      store<f32>(dx + <usize>(i0 + W + 1) * 4, at == i0 + W + 1 ? 0 + v : 0);
    }
    // An odd last column gets nothing.
    for (let iw = 2 * OW; iw < W; iw++) {
      store<f32>(r0 + <usize>iw * 4, 0);
      store<f32>(r1 + <usize>iw * 4, 0);
    }
  }
  // And so do the rows below the last window.
  memory.fill(dx + <usize>(2 * OH * W) * 4, 0, <usize>((H - 2 * OH) * W) * 4);
}

/** One plane of any window's backward: dx [inPlane] = 0, then dx[idx[j]] += dy[j] in output order. */
function backwardScatter(dy: usize, idx: usize, dx: usize, inPlane: i32, L: i32): void {
  memory.fill(dx, 0, <usize>inPlane * 4);
  for (let j = 0; j < L; j++) {
    const at = load<i32>(idx + <usize>j * 4);
    if (at >= 0) {
      const p = dx + <usize>at * 4;
      store<f32>(p, load<f32>(p) + load<f32>(dy + <usize>j * 4));
    }
  }
}

/**
 * Share `tid` (of `threads`; the worker pool hands shares to any thread) of the pooling task
 * at `desc` (i32 words): 0 mode (0 2×2 forward, 1 2×2 backward, 2 any window's backward,
 * 3 2×2 forward without indices, 4 any 2-D window's forward),
 * 1 planes, 2–3 input size H, W (mode 2: 1 and the plane's size), 4–5 output size OH, OW
 * (mode 2: 1 and the outputs per plane), 6 x (dx for the backward modes), 7 out (dy),
 * 8 indices; mode 4 also 9–10 kernel, 11–12 stride, 13–14 padding before, 15–16 dilation.
 * Each share is a contiguous range of planes.
 */
export function poolTask(desc: usize, tid: i32, threads: i32): void {
  const mode = load<i32>(desc);
  const planes = load<i32>(desc, 4);
  H = load<i32>(desc, 8); W = load<i32>(desc, 12);
  OH = load<i32>(desc, 16); OW = load<i32>(desc, 20);
  const x = <usize>load<i32>(desc, 24);
  const y = <usize>load<i32>(desc, 28);
  const idx = <usize>load<i32>(desc, 32);
  if (mode == 4) {
    KH = load<i32>(desc, 36); KW = load<i32>(desc, 40);
    SH = load<i32>(desc, 44); SW = load<i32>(desc, 48);
    PH = load<i32>(desc, 52); PW = load<i32>(desc, 56);
    DH = load<i32>(desc, 60); DW = load<i32>(desc, 64);
  }
  const inPlane = H * W;
  const L = OH * OW;
  const per = (planes + threads - 1) / threads;
  const p0 = tid * per;
  const p1 = min(planes, p0 + per);
  for (let p = p0; p < p1; p++) {
    const xp = x + <usize>(p * inPlane) * 4;
    const yp = y + <usize>(p * L) * 4;
    const ip = idx + <usize>(p * L) * 4;
    if (mode == 0) forward2x2(xp, yp, ip);
    else if (mode == 3) forwardValues2x2(xp, yp);
    else if (mode == 4) forwardWindow(xp, yp, ip);
    else if (mode == 1) backward2x2(yp, ip, xp);
    else backwardScatter(yp, ip, xp, inPlane, L);
  }
}
