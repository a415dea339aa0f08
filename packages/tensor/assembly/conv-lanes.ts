// Convolutions with few channels on both sides (LeNet's 1→6 and 6→16 5×5), four batch items at
// a time, one item per vector lane. An output pixel of four items is one f32x4, so every pixel
// vectorises the same way whatever the map's width (a 10-wide row has no ragged tail), a window
// row is a run of whole vectors (the next tap along the row is the next vector: a sliding window
// of registers, one load per tap), and a weight is one splat. GEMM on these shapes would multiply
// 6- or 16-row panels, and im2col would copy 25 values per output.
//
// The items are interleaved into a zero-padded plane first ([C][PH][PW][4], in a buffer per
// thread) and the results transposed back as they are stored. Forward: a tile of CH output
// channels × PX pixels of one row (8 accumulators) over every input channel and tap whose window
// reads data rather than padding. Input gradient: the same correlation over dy (padded by the
// kernel's reach) with the weights transposed and flipped. Weight gradient: a tile of two output
// channels × four taps summed over the pixels of every item, lanes kept apart until the end of
// the batch. (Tiles of 10 or 12 accumulators measured slower: V8 spills them.)
//
// Every sum runs in one order fixed by the shape: forward and input gradient per element (bias,
// then channels, kernel rows, kernel columns, over the taps its tile reads), the same in every
// lane; weight gradient per lane (items 4g + lane) over blocks of rows of each group, added up
// block by block and group by group, then the lanes (0 + 1) + (2 + 3) — so results do not
// depend on the thread count or on which share computes what.
import { fma, transpose4 } from './gemm';

/** Pixels (per lane) a weight-gradient tile sums before adding into its running sums (whole rows, at least one). */
const FLUSH_PIXELS = 256;

/** Vectors of slack after a plane: a tile's sliding window reads up to PX − 1 past its row. */
const SLACK = 8;

/**
 * dst [C, PH, PW, 4] = the `cnt` (≤ 4) items of src [·, C, H, W] (`item` bytes apart) placed at
 * (top, left), zeros elsewhere (and in the lanes of missing items). Rows and columns that fall
 * outside the plane are dropped.
 */
export function interleavePlanes(src: usize, cnt: i32, item: usize, C: i32, H: i32, W: i32, top: i32, left: i32,
  dst: usize, PH: i32, PW: i32): void {
  memory.fill(dst, 0, <usize>(C * PH * PW + SLACK) * 16);
  const h = min(H, PH - top);
  const w = min(W, PW - left);
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < h; r++) {
      const s = src + <usize>((c * H + r) * W) * 4;
      const d = dst + <usize>(((c * PH + r + top) * PW + left) * 16);
      let i = 0;
      if (cnt == 4) for (; i + 4 <= w; i += 4) transpose4(s + <usize>i * 4, item, d + <usize>i * 16, 16);
      for (; i < w; i++) {
        for (let k = 0; k < cnt; k++) store<f32>(d + <usize>(i * 16 + k * 4), load<f32>(s + <usize>k * item + <usize>i * 4));
      }
    }
  }
}

/** dst [rows, 4] = the `cnt` (≤ 4) items of src [·, rows] (`item` bytes apart), zeros in missing lanes. */
function interleaveRows(src: usize, cnt: i32, item: usize, rows: i32, dst: usize): void {
  let r = 0;
  if (cnt == 4) for (; r + 4 <= rows; r += 4) transpose4(src + <usize>r * 4, item, dst + <usize>r * 16, 16);
  for (; r < rows; r++) {
    for (let k = 0; k < 4; k++) store<f32>(dst + <usize>(r * 16 + k * 4), k < cnt ? load<f32>(src + <usize>k * item + <usize>r * 4) : 0);
  }
}

/**
 * dst [ceil(rows / CH)][cin][K][CH]: the weights of CH output channels side by side per tap,
 * zeros past `rows`. Forward: w [rows, cin, K]. `flip` (input gradient): w [cin, rows, K] read
 * transposed and with the taps reversed (the adjoint's kernel).
 */
function packTiles(w: usize, rows: i32, cin: i32, K: i32, CH: i32, flip: bool, dst: usize): void {
  let d = dst;
  for (let o = 0; o < rows; o += CH) {
    for (let c = 0; c < cin; c++) {
      for (let t = 0; t < K; t++) {
        for (let i = 0; i < CH; i++) {
          const r = o + i;
          const src = flip ? (c * rows + r) * K + K - 1 - t : (r * cin + c) * K + t;
          store<f32>(d, r < rows ? load<f32>(w + <usize>src * 4) : 0);
          d += 4;
        }
      }
    }
  }
}

// The correlation's geometry and how a tile is stored, set once per call (globals are per
// instance, so per thread): the padded plane's channels and size, kernel, row stride, the data
// region [R0, R1) × [S0, S1) of the plane; bytes between items and between channels of y, items
// in the group, channels of the tile that exist, accumulate into y, clamp into [LO, HI].
let PC: i32 = 0, PH: i32 = 0, PW: i32 = 0, KH: i32 = 0, KW: i32 = 0, SH: i32 = 1;
let R0: i32 = 0, R1: i32 = 0, S0: i32 = 0, S1: i32 = 0;
let ITEM: usize = 0, CHAN: usize = 0;
let CNT: i32 = 0, CHS: i32 = 0;
let ACC = false, CLAMP = false;
let LO: f32 = 0, HI: f32 = 0;
/** The call whose weights this thread's buffer holds packed (serial numbers start at 1). */
let PACKED: i32 = 0;

/** PX pixel vectors of one channel (four items each) stored to items 0…cnt − 1 as PX consecutive floats. */
@inline function store4(PX: i32, v0: v128, v1: v128, v2: v128, v3: v128, y: usize): void {
  if (CLAMP) {
    // clampF32's pmax/pmin: the same bits as the separate clamp pass.
    const lo = f32x4.splat(LO), hi = f32x4.splat(HI);
    v0 = f32x4.pmin(f32x4.pmax(v0, lo), hi);
    v1 = f32x4.pmin(f32x4.pmax(v1, lo), hi);
    v2 = f32x4.pmin(f32x4.pmax(v2, lo), hi);
    v3 = f32x4.pmin(f32x4.pmax(v3, lo), hi);
  }
  const item = ITEM;
  const cnt = CNT;
  const acc = ACC;
  if (PX == 4) {
    const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
    const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
    const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
    const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
    put4(y, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), acc);
    if (cnt > 1) put4(y + item, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), acc);
    if (cnt > 2) put4(y + item * 2, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), acc);
    if (cnt > 3) put4(y + item * 3, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), acc);
  } else if (PX == 2) {
    let lo = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
    let hi = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
    if (acc) {
      lo = f32x4.add(v128.load64_lane(y + item, v128.load64_zero(y), 1), lo);
      hi = f32x4.add(v128.load64_lane(y + item * 3, v128.load64_zero(y + item * 2), 1), hi);
    }
    v128.store64_lane(y, lo, 0);
    if (cnt > 1) v128.store64_lane(y + item, lo, 1);
    if (cnt > 2) v128.store64_lane(y + item * 2, hi, 0);
    if (cnt > 3) v128.store64_lane(y + item * 3, hi, 1);
  } else {
    put1(y, f32x4.extract_lane(v0, 0), acc);
    if (cnt > 1) put1(y + item, f32x4.extract_lane(v0, 1), acc);
    if (cnt > 2) put1(y + item * 2, f32x4.extract_lane(v0, 2), acc);
    if (cnt > 3) put1(y + item * 3, f32x4.extract_lane(v0, 3), acc);
  }
}

@inline function put4(p: usize, v: v128, accumulate: bool): void {
  v128.store(p, accumulate ? f32x4.add(v128.load(p), v) : v);
}

@inline function put1(p: usize, s: f32, accumulate: bool): void {
  store<f32>(p, accumulate ? load<f32>(p) + s : s);
}

/**
 * One tile: CH channels × PX pixels (one row, from column ow) of four interleaved items. `x`:
 * the plane at (row oh·SH, column ow); `wq`: the tile's packed weights; `bias`: CH floats.
 * Only the kernel rows [kh0, kh1) and columns [kw0, kw1) that read data for some pixel of the
 * tile are multiplied (the rest would add products of zeros).
 */
@inline function tileBody(CH: i32, PX: i32, x: usize, wq: usize, bias: usize, kh0: i32, kh1: i32, kw0: i32, kw1: i32, y: usize): void {
  let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
  let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  let a20 = a00, a21 = a00, a22 = a00, a23 = a00;
  let a30 = a00, a31 = a00, a32 = a00, a33 = a00;
  if (bias) {
    a00 = v128.load32_splat(bias); a01 = a00; a02 = a00; a03 = a00;
    if (CH > 1) { a10 = v128.load32_splat(bias, 4); a11 = a10; a12 = a10; a13 = a10; }
    if (CH > 2) { a20 = v128.load32_splat(bias, 8); a21 = a20; a22 = a20; a23 = a20; }
    if (CH > 3) { a30 = v128.load32_splat(bias, 12); a31 = a30; a32 = a30; a33 = a30; }
  }
  const plane = <usize>(PH * PW) * 16;
  const row = <usize>PW * 16;
  const kh = KH, kw = KW, C = PC;
  for (let c = 0; c < C; c++) {
    for (let r = kh0; r < kh1; r++) {
      let p = x + <usize>c * plane + <usize>r * row + <usize>kw0 * 16;
      let wk = wq + <usize>(((c * kh + r) * kw + kw0) * CH) * 4;
      // The window of PX vectors slides one vector per tap: only its last one is loaded.
      let x0 = v128.load(p);
      let x1 = PX > 2 ? v128.load(p, 16) : x0;
      let x2 = PX > 2 ? v128.load(p, 32) : x0;
      for (let t = kw0; t < kw1; t++) {
        const xn = v128.load(p + <usize>((PX - 1) * 16));
        if (PX == 2) x1 = xn;
        let u = v128.load32_splat(wk);
        a00 = fma(u, x0, a00);
        if (PX > 1) a01 = fma(u, x1, a01);
        if (PX > 2) { a02 = fma(u, x2, a02); a03 = fma(u, xn, a03); }
        if (CH > 1) {
          u = v128.load32_splat(wk, 4);
          a10 = fma(u, x0, a10);
          if (PX > 1) a11 = fma(u, x1, a11);
          if (PX > 2) { a12 = fma(u, x2, a12); a13 = fma(u, xn, a13); }
        }
        if (CH > 2) {
          u = v128.load32_splat(wk, 8);
          a20 = fma(u, x0, a20);
          if (PX > 1) a21 = fma(u, x1, a21);
          if (PX > 2) { a22 = fma(u, x2, a22); a23 = fma(u, xn, a23); }
        }
        if (CH > 3) {
          u = v128.load32_splat(wk, 12);
          a30 = fma(u, x0, a30);
          if (PX > 1) a31 = fma(u, x1, a31);
          if (PX > 2) { a32 = fma(u, x2, a32); a33 = fma(u, xn, a33); }
        }
        if (PX == 1) x0 = v128.load(p, 16);
        else if (PX == 2) x0 = x1;
        else { x0 = x1; x1 = x2; x2 = xn; }
        p += 16;
        wk += <usize>CH * 4;
      }
    }
  }
  store4(PX, a00, a01, a02, a03, y);
  if (CH > 1 && CHS > 1) store4(PX, a10, a11, a12, a13, y + CHAN);
  if (CH > 2 && CHS > 2) store4(PX, a20, a21, a22, a23, y + CHAN * 2);
  if (CH > 3 && CHS > 3) store4(PX, a30, a31, a32, a33, y + CHAN * 3);
}

// One function per tile shape, never inlined: a function holding several shapes' accumulators
// (or two shapes folded into one by the optimiser) leaves V8 spilling them.
function tile24(x: usize, wq: usize, bias: usize, kh0: i32, kh1: i32, kw0: i32, kw1: i32, y: usize): void { tileBody(2, 4, x, wq, bias, kh0, kh1, kw0, kw1, y); }
function tile22(x: usize, wq: usize, bias: usize, kh0: i32, kh1: i32, kw0: i32, kw1: i32, y: usize): void { tileBody(2, 2, x, wq, bias, kh0, kh1, kw0, kw1, y); }
function tile21(x: usize, wq: usize, bias: usize, kh0: i32, kh1: i32, kw0: i32, kw1: i32, y: usize): void { tileBody(2, 1, x, wq, bias, kh0, kh1, kw0, kw1, y); }
function tile42(x: usize, wq: usize, bias: usize, kh0: i32, kh1: i32, kw0: i32, kw1: i32, y: usize): void { tileBody(4, 2, x, wq, bias, kh0, kh1, kw0, kw1, y); }
function tile41(x: usize, wq: usize, bias: usize, kh0: i32, kh1: i32, kw0: i32, kw1: i32, y: usize): void { tileBody(4, 1, x, wq, bias, kh0, kh1, kw0, kw1, y); }

@inline function tile(CH: i32, PX: i32, x: usize, wq: usize, bias: usize, kh0: i32, kh1: i32, kw0: i32, kw1: i32, y: usize): void {
  if (CH == 2) {
    if (PX == 4) tile24(x, wq, bias, kh0, kh1, kw0, kw1, y);
    else if (PX == 2) tile22(x, wq, bias, kh0, kh1, kw0, kw1, y);
    else tile21(x, wq, bias, kh0, kh1, kw0, kw1, y);
  } else {
    if (PX == 2) tile42(x, wq, bias, kh0, kh1, kw0, kw1, y);
    else tile41(x, wq, bias, kh0, kh1, kw0, kw1, y);
  }
}

/** Tiles of CH channels over every row of y (item 0, first channel): PX pixels at a time, then the row's rest by 2 and by 1. */
@inline function rows(CH: i32, PX: i32, xi: usize, wq: usize, bias: usize, OH: i32, OW: i32, y0: usize): void {
  for (let oh = 0; oh < OH; oh++) {
    const top = oh * SH;
    const kh0 = max(0, R0 - top);
    const kh1 = min(KH, R1 - top);
    const x = xi + <usize>(top * PW) * 16;
    const y = y0 + <usize>(oh * OW) * 4;
    let ow = 0;
    for (; ow + PX <= OW; ow += PX) {
      tile(CH, PX, x + <usize>ow * 16, wq, bias, kh0, kh1, max(0, S0 - ow - PX + 1), min(KW, S1 - ow), y + <usize>ow * 4);
    }
    if (PX > 2 && ow + 2 <= OW) {
      tile(CH, 2, x + <usize>ow * 16, wq, bias, kh0, kh1, max(0, S0 - ow - 1), min(KW, S1 - ow), y + <usize>ow * 4);
      ow += 2;
    }
    if (ow < OW) tile(CH, 1, x + <usize>ow * 16, wq, bias, kh0, kh1, max(0, S0 - ow), min(KW, S1 - ow), y + <usize>ow * 4);
  }
}

/**
 * Channels per tile for `cout` output channels over rows of `OW` pixels: 2 channels × 4 pixels
 * or 4 × 2, whichever wastes less (channels past the end, rows' rests); the 2 × 4 tile runs a
 * little faster.
 */
export function lanesChannels(cout: i32, OW: i32): i32 {
  // Per row, in units of a full tile's time: a 2-pixel tile of 2 channels costs about as much
  // as a full one, a 1-pixel tile (few accumulator chains) about as much too; 4 × 2 is ~8% slower.
  const cost2 = ((cout + 1) >> 1) * ((OW >> 2) + ((OW >> 1) & 1) + (OW & 1)) * 100;
  const cost4 = ((cout + 3) >> 2) * ((OW >> 1) + (OW & 1)) * 108;
  return cost4 < cost2 ? 4 : 2;
}

/** Bytes of a share's buffer for `lanesCorrelate`: the plane, then the packed weights and bias. */
export function lanesCorrelateBytes(cin: i32, PH: i32, PW: i32, cout: i32, K: i32): i32 {
  return (cin * PH * PW + SLACK) * 16 + (((cout + 3) & ~3) * cin * K + ((cout + 3) & ~3)) * 4 + 64;
}

/**
 * Share `tid` (of `threads`) of y [N, cout, OH, OW] (+)= bias + src ⋆ w: groups of four items
 * dealt round robin, in the running thread's `buf`, where the weights are packed once per call
 * (`serial`). src [N, cin, H, W] sits at (top, left) in a ph × pw zero plane; rows step
 * by `sh`. `flip`: the input gradient (w [cin, cout, K] transposed and flipped, y accumulated into).
 */
export function lanesCorrelate(src: usize, w: usize, bias: usize, y: usize, N: i32, cin: i32, H: i32, W: i32, cout: i32,
  kh: i32, kw: i32, sh: i32, top: i32, left: i32, ph: i32, pw: i32, OH: i32, OW: i32, flip: bool, clamp: bool, lo: f32, hi: f32,
  buf: usize, serial: i32, tid: i32, threads: i32): void {
  const groups = (N + 3) >> 2;
  if (tid >= groups) return;
  const K = kh * kw;
  const L = OH * OW;
  const CH = lanesChannels(cout, OW);
  const xi = buf;
  const wp = (xi + <usize>(cin * ph * pw + SLACK) * 16 + 15) & ~15;
  const bp = wp + <usize>(((cout + 3) & ~3) * cin * K) * 4;
  if (PACKED != serial) {
    packTiles(w, cout, cin, K, CH, flip, wp);
    for (let o = 0; o < ((cout + 3) & ~3); o++) store<f32>(bp + <usize>o * 4, bias && o < cout ? load<f32>(bias + <usize>o * 4) : 0);
    PACKED = serial;
  }
  PC = cin; PH = ph; PW = pw; KH = kh; KW = kw; SH = sh;
  R0 = top; R1 = min(ph, top + H); S0 = left; S1 = min(pw, left + W);
  ITEM = <usize>(cout * L) * 4;
  CHAN = <usize>L * 4;
  ACC = flip;
  CLAMP = clamp;
  LO = lo;
  HI = hi;
  const b = bias ? bp : 0;
  for (let gi = tid; gi < groups; gi += threads) {
    const n = gi * 4;
    CNT = min(4, N - n);
    interleavePlanes(src + <usize>(n * cin * H * W) * 4, CNT, <usize>(cin * H * W) * 4, cin, H, W, top, left, xi, ph, pw);
    for (let o = 0; o < cout; o += CH) {
      CHS = cout - o;
      const yo = y + <usize>(n * cout * L + o * L) * 4;
      const wq = wp + <usize>(o * cin * K) * 4;
      const bo = b ? b + <usize>o * 4 : 0;
      if (CH == 2) rows(2, 4, xi, wq, bo, OH, OW, yo);
      else rows(4, 2, xi, wq, bo, OH, OW, yo);
    }
  }
}

/**
 * Lane sums (four items each) of CH channels × 4 taps (byte offsets o0…o3 into the plane) of
 * the weight gradient over every output pixel of one group, added to acc [CH][4 taps] (rows
 * `accRow` bytes apart).
 */
@inline function weightTileBody(CH: i32, xi: usize, dyo: usize, L: i32, o0: usize, o1: usize, o2: usize, o3: usize, OH: i32, OW: i32,
  rowStep: usize, acc: usize, accRow: usize): void {
  // The sums of every FLUSH_ROWS rows start from zero and are added to the running ones: short
  // chains of additions (a few hundred pixels, then the blocks and groups in order) rather than
  // one over the whole batch.
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a02 = zero, a03 = zero;
  let a10 = zero, a11 = zero, a12 = zero, a13 = zero;
  let d = dyo;
  const next = <usize>L * 16;
  const flush = max(1, FLUSH_PIXELS / OW);
  for (let oh = 0; oh < OH; oh++) {
    if (oh > 0 && oh % flush == 0) {
      addTo(acc, a00, a01, a02, a03);
      if (CH > 1) addTo(acc + accRow, a10, a11, a12, a13);
      a00 = zero; a01 = zero; a02 = zero; a03 = zero;
      a10 = zero; a11 = zero; a12 = zero; a13 = zero;
    }
    let p = xi + <usize>oh * rowStep;
    for (let ow = 0; ow < OW; ow++) {
      const x0 = v128.load(p + o0), x1 = v128.load(p + o1), x2 = v128.load(p + o2), x3 = v128.load(p + o3);
      const g = v128.load(d);
      a00 = fma(g, x0, a00); a01 = fma(g, x1, a01); a02 = fma(g, x2, a02); a03 = fma(g, x3, a03);
      if (CH > 1) {
        const h = v128.load(d + next);
        a10 = fma(h, x0, a10); a11 = fma(h, x1, a11); a12 = fma(h, x2, a12); a13 = fma(h, x3, a13);
      }
      p += 16;
      d += 16;
    }
  }
  addTo(acc, a00, a01, a02, a03);
  if (CH > 1) addTo(acc + accRow, a10, a11, a12, a13);
}

@inline function addTo(p: usize, v0: v128, v1: v128, v2: v128, v3: v128): void {
  v128.store(p, f32x4.add(v128.load(p), v0));
  v128.store(p, f32x4.add(v128.load(p, 16), v1), 16);
  v128.store(p, f32x4.add(v128.load(p, 32), v2), 32);
  v128.store(p, f32x4.add(v128.load(p, 48), v3), 48);
}

function weightTile2(xi: usize, dyo: usize, L: i32, o0: usize, o1: usize, o2: usize, o3: usize, OH: i32, OW: i32, rowStep: usize, acc: usize, accRow: usize): void {
  weightTileBody(2, xi, dyo, L, o0, o1, o2, o3, OH, OW, rowStep, acc, accRow);
}
function weightTile1(xi: usize, dyo: usize, L: i32, o0: usize, o1: usize, o2: usize, o3: usize, OH: i32, OW: i32, rowStep: usize, acc: usize, accRow: usize): void {
  weightTileBody(1, xi, dyo, L, o0, o1, o2, o3, OH, OW, rowStep, acc, accRow);
}

/** Byte offset in the plane (channels of ph × pw vectors) of flat tap t = (c, kh, kw). */
@inline function tapOffset(t: i32, K: i32, kw: i32, ph: i32, pw: i32): usize {
  const c = t / K;
  const r = t % K;
  return <usize>((c * ph + r / kw) * pw + r % kw) * 16;
}

/** Bytes of a share's buffer for `lanesWeight`: the plane of x, then the share's channels of dy. */
export function lanesWeightBytes(C: i32, ph: i32, pw: i32, cout: i32, L: i32): i32 {
  return (C * ph * pw + SLACK) * 16 + cout * L * 16 + 64;
}

/** Bytes of the lane sums all shares of `lanesWeight` write (each its own units). */
export function lanesWeightSumBytes(cout: i32, CK: i32): i32 {
  return ((cout + 1) & ~1) * ((CK + 3) & ~3) * 16;
}

/**
 * Share `tid` (of `threads`) of dW [cout, C, KH, KW] += Σ over items of dy ⋆ x, x [N, C, H, W]
 * at (top, left) in a ph × pw zero plane, rows stepping by `sh`. Units of 2 channels × 4 taps
 * are split in contiguous ranges; each share interleaves every group of items (the x plane and
 * its channels of dy) and adds each unit's products into its lane sums at `sums`, which persist
 * over calls: zeroed when `first`, and summed across lanes into dW when `last` (so a batch in
 * several chunks of whole groups sums as one).
 */
export function lanesWeight(x: usize, dy: usize, dw: usize, N: i32, C: i32, H: i32, W: i32, cout: i32, kh: i32, kw: i32, sh: i32,
  top: i32, left: i32, ph: i32, pw: i32, OH: i32, OW: i32, first: bool, last: bool, sums: usize, buf: usize, tid: i32, threads: i32): void {
  const K = kh * kw;
  const CK = C * K;
  const T4 = (CK + 3) & ~3;
  const quads = T4 >> 2;
  const units = ((cout + 1) >> 1) * quads;
  const u0 = tid * units / threads;
  const u1 = (tid + 1) * units / threads;
  if (u0 >= u1) return;
  const L = OH * OW;
  const oA = (u0 / quads) * 2;
  const oB = min(cout, ((u1 - 1) / quads) * 2 + 2);
  const row = <usize>T4 * 16;
  if (first) {
    for (let u = u0; u < u1; u++) {
      const acc = sums + <usize>(((u / quads) * 2 * T4 + (u % quads) * 4) * 16);
      memory.fill(acc, 0, 64);
      memory.fill(acc + row, 0, 64);
    }
  }
  const xi = buf;
  const dyi = (xi + <usize>(C * ph * pw + SLACK) * 16 + 15) & ~15;
  for (let n = 0; n < N; n += 4) {
    const cnt = min(4, N - n);
    interleavePlanes(x + <usize>(n * C * H * W) * 4, cnt, <usize>(C * H * W) * 4, C, H, W, top, left, xi, ph, pw);
    interleaveRows(dy + <usize>(n * cout * L + oA * L) * 4, cnt, <usize>(cout * L) * 4, (oB - oA) * L, dyi);
    for (let u = u0; u < u1; u++) {
      const o = (u / quads) * 2;
      const t = (u % quads) * 4;
      // Taps past the end repeat the last one (summed, never stored).
      const o0 = tapOffset(t, K, kw, ph, pw);
      const o1 = tapOffset(min(t + 1, CK - 1), K, kw, ph, pw);
      const o2 = tapOffset(min(t + 2, CK - 1), K, kw, ph, pw);
      const o3 = tapOffset(min(t + 3, CK - 1), K, kw, ph, pw);
      const acc = sums + <usize>((o * T4 + t) * 16);
      const dyo = dyi + <usize>((o - oA) * L) * 16;
      if (o + 1 < cout) weightTile2(xi, dyo, L, o0, o1, o2, o3, OH, OW, <usize>(sh * pw) * 16, acc, row);
      else weightTile1(xi, dyo, L, o0, o1, o2, o3, OH, OW, <usize>(sh * pw) * 16, acc, row);
    }
  }
  if (!last) return;
  for (let u = u0; u < u1; u++) {
    const o = (u / quads) * 2;
    const t = (u % quads) * 4;
    for (let i = 0; i < 2 && o + i < cout; i++) {
      for (let j = 0; j < 4 && t + j < CK; j++) {
        const v = v128.load(sums + <usize>(((o + i) * T4 + t + j) * 16));
        const s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
        const q = dw + <usize>((o + i) * CK + t + j) * 4;
        store<f32>(q, load<f32>(q) + s);
      }
    }
  }
}
