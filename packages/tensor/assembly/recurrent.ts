// Fused recurrent cells for Kiln's wasm backend: the gate nonlinearities of one LSTM or GRU
// time step (and their adjoints) over `batch` rows, four hidden units per f32x4, in one pass.
// The equations are those of backend.ts (LstmCellArgs, GruCellArgs, ...) without peepholes.
//
// exp is computed in single precision: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in a high part
// exact in float32 and a low part, so n·ln2 loses nothing), eʳ by its Taylor series to r⁷ (the
// next term is below 6e-9 of the value), and 2ⁿ built from the exponent bits. σ(x) = 1/(1+e⁻ˣ);
// tanh(x) = ±(1 − 2/(e^{2|x|}+1)), or its odd series to x⁷ below |x| = 0.1 where the
// subtraction would cancel digits.

import { fma, packB } from './gemm';

const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.4286067653301870e-6;

/** 1.5·2²³: adding it rounds a float below 2²² to an integer, which then sits in the low mantissa bits. */
const MAGIC: f32 = 12582912.0;

@inline function vexp(x: v128): v128 {
  // pmin/pmax are one instruction each (min/max's NaN rules cost several) and keep a NaN x (their first operand).
  const v = f32x4.pmax(f32x4.pmin(x, f32x4.splat(88.0)), f32x4.splat(-87.0));
  const t = fma(v, f32x4.splat(LOG2E), f32x4.splat(MAGIC));
  const n = f32x4.sub(t, f32x4.splat(MAGIC));
  const r = f32x4.sub(f32x4.sub(v, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(<f32>(1.0 / 5040.0));
  p = fma(p, r, f32x4.splat(<f32>(1.0 / 720.0)));
  p = fma(p, r, f32x4.splat(<f32>(1.0 / 120.0)));
  p = fma(p, r, f32x4.splat(<f32>(1.0 / 24.0)));
  p = fma(p, r, f32x4.splat(<f32>(1.0 / 6.0)));
  p = fma(p, r, f32x4.splat(0.5));
  p = fma(p, r, f32x4.splat(1.0));
  p = fma(p, r, f32x4.splat(1.0));
  // 2ⁿ from n's integer bits in t (n + 127 in 1..254: no saturation or conversion needed).
  const scale = i32x4.shl(i32x4.sub(t, i32x4.splat(0x4B400000 - 127)), 23);
  return f32x4.mul(p, scale);
}

@inline function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

@inline function vtanh(x: v128): v128 {
  const a = f32x4.abs(x);
  const one = f32x4.splat(1.0);
  const t = f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(vexp(f32x4.add(a, a)), one)));
  const big = v128.or(t, v128.and(x, f32x4.splat(-0.0)));
  const x2 = f32x4.mul(x, x);
  let q = f32x4.splat(<f32>(-17.0 / 315.0));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(<f32>(2.0 / 15.0)));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(<f32>(-1.0 / 3.0)));
  const small = f32x4.add(x, f32x4.mul(f32x4.mul(q, x2), x));
  return v128.bitselect(small, big, f32x4.lt(a, f32x4.splat(0.1)));
}

/** Four floats at p, or for a tail (n < 4 left) the first n and zeros. */
@inline function loadPart(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

@inline function storePart(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * The LSTM cell for up to four hidden units (n < 4 for a tail): the pre-activations i, f, g, o at
 * g, g + hb, g + 2hb, g + 3hb (plus the bias at the same offsets from `bias`, unless 0) are activated in place, h = o⊙tanh(c) goes to hOut; returns
 * c = f⊙cPrev + i⊙g.
 */
@inline function cellForward(g: usize, hb: usize, cPrev: v128, n: i32, hOut: usize, bias: usize): v128 {
  let ai = loadPart(g, n);
  let af = loadPart(g + hb, n);
  let ag = loadPart(g + 2 * hb, n);
  let ao = loadPart(g + 3 * hb, n);
  if (bias != 0) {
    ai = f32x4.add(ai, loadPart(bias, n));
    af = f32x4.add(af, loadPart(bias + hb, n));
    ag = f32x4.add(ag, loadPart(bias + 2 * hb, n));
    ao = f32x4.add(ao, loadPart(bias + 3 * hb, n));
  }
  const ig = vsigmoid(ai);
  const fg = vsigmoid(af);
  const gg = vtanh(ag);
  const og = vsigmoid(ao);
  const cn = f32x4.add(f32x4.mul(fg, cPrev), f32x4.mul(ig, gg));
  storePart(g, ig, n);
  storePart(g + hb, fg, n);
  storePart(g + 2 * hb, gg, n);
  storePart(g + 3 * hb, og, n);
  storePart(hOut, f32x4.mul(og, vtanh(cn)), n);
  return cn;
}

/**
 * LSTM step: gates [B, 4H] (i, f, g, o pre-activations) become act (i, f, g, o) in place;
 * c [B, H] = f⊙cPrev + i⊙g, h [B, H] = o⊙tanh(c).
 */
export function lstmCellF32(B: i32, H: i32, gates: usize, cPrev: usize, c: usize, h: usize): void {
  const hb = <usize>H * 4;
  for (let r = 0; r < B; r++) {
    const g = gates + <usize>(r * 4 * H) * 4;
    const s = <usize>(r * H) * 4;
    for (let j = 0; j < H; j += 4) {
      const n = H - j;
      const o4 = <usize>j * 4;
      storePart(c + s + o4, cellForward(g + o4, hb, loadPart(cPrev + s + o4, n), n, h + s + o4, 0), n);
    }
  }
}

/**
 * The adjoint of cellForward for up to four units: from the activations at a (i, f, g, o blocks
 * hb bytes apart), dh, dc, cPrev and c, writes the pre-activation gradients at d (blocks db
 * bytes apart); returns dcPrev.
 */
@inline function cellBackward(a: usize, d: usize, hb: usize, db: usize, dhj: v128, dcIn: v128, cPrev: v128, c: v128, n: i32): v128 {
  const one = f32x4.splat(1.0);
  const ig = loadPart(a, n);
  const fg = loadPart(a + hb, n);
  const gg = loadPart(a + 2 * hb, n);
  const og = loadPart(a + 3 * hb, n);
  const tc = vtanh(c);
  const dOut = f32x4.mul(f32x4.mul(f32x4.mul(dhj, tc), og), f32x4.sub(one, og));
  const dcj = f32x4.add(dcIn, f32x4.mul(f32x4.mul(dhj, og), f32x4.sub(one, f32x4.mul(tc, tc))));
  const dIn = f32x4.mul(f32x4.mul(f32x4.mul(dcj, gg), ig), f32x4.sub(one, ig));
  const dForget = f32x4.mul(f32x4.mul(f32x4.mul(dcj, cPrev), fg), f32x4.sub(one, fg));
  const dCand = f32x4.mul(f32x4.mul(dcj, ig), f32x4.sub(one, f32x4.mul(gg, gg)));
  storePart(d, dIn, n);
  storePart(d + db, dForget, n);
  storePart(d + 2 * db, dCand, n);
  storePart(d + 3 * db, dOut, n);
  return f32x4.mul(dcj, fg);
}

/**
 * The adjoint of lstmCellF32 from act [B, 4H], cPrev, c and the incoming dh, dc [B, H]:
 * dGates [B, 4H] and dcPrev [B, H] (may be dc).
 */
export function lstmCellBackwardF32(B: i32, H: i32, dh: usize, dc: usize, act: usize, cPrev: usize, c: usize, dGates: usize, dcPrev: usize): void {
  const hb = <usize>H * 4;
  for (let r = 0; r < B; r++) {
    const a = act + <usize>(r * 4 * H) * 4;
    const d = dGates + <usize>(r * 4 * H) * 4;
    const s = <usize>(r * H) * 4;
    for (let j = 0; j < H; j += 4) {
      const n = H - j;
      const o = s + <usize>j * 4;
      const dcp = cellBackward(a + <usize>j * 4, d + <usize>j * 4, hb, hb, loadPart(dh + o, n), loadPart(dc + o, n), loadPart(cPrev + o, n), loadPart(c + o, n), n);
      storePart(dcPrev + o, dcp, n);
    }
  }
}

/**
 * GRU step (linear before reset): xGates, hGates [B, 3H] (r, z, n) and hPrev [B, H] give
 * act [B, 4H] = (r, z, n, h_n) and h [B, H].
 */
export function gruCellF32(B: i32, H: i32, xGates: usize, hGates: usize, hPrev: usize, act: usize, h: usize): void {
  const one = f32x4.splat(1.0);
  for (let r = 0; r < B; r++) {
    const xg = xGates + <usize>(r * 3 * H) * 4;
    const hg = hGates + <usize>(r * 3 * H) * 4;
    const a = act + <usize>(r * 4 * H) * 4;
    const s = <usize>(r * H) * 4;
    const hb = <usize>H * 4;
    for (let j = 0; j < H; j += 4) {
      const n = H - j;
      const o4 = <usize>j * 4;
      const rg = vsigmoid(f32x4.add(loadPart(xg + o4, n), loadPart(hg + o4, n)));
      const zg = vsigmoid(f32x4.add(loadPart(xg + hb + o4, n), loadPart(hg + hb + o4, n)));
      const hn = loadPart(hg + 2 * hb + o4, n);
      const ng = vtanh(f32x4.add(loadPart(xg + 2 * hb + o4, n), f32x4.mul(rg, hn)));
      storePart(a + o4, rg, n);
      storePart(a + hb + o4, zg, n);
      storePart(a + 2 * hb + o4, ng, n);
      storePart(a + 3 * hb + o4, hn, n);
      storePart(h + s + o4, f32x4.add(f32x4.mul(f32x4.sub(one, zg), ng), f32x4.mul(zg, loadPart(hPrev + s + o4, n))), n);
    }
  }
}

/** The adjoint of gruCellF32: dxGates, dhGates [B, 3H] and dhPrev = dh⊙z [B, H]. */
export function gruCellBackwardF32(B: i32, H: i32, dh: usize, act: usize, hPrev: usize, dxGates: usize, dhGates: usize, dhPrev: usize): void {
  const one = f32x4.splat(1.0);
  for (let r = 0; r < B; r++) {
    const a = act + <usize>(r * 4 * H) * 4;
    const dx = dxGates + <usize>(r * 3 * H) * 4;
    const dhg = dhGates + <usize>(r * 3 * H) * 4;
    const s = <usize>(r * H) * 4;
    const hb = <usize>H * 4;
    for (let j = 0; j < H; j += 4) {
      const n = H - j;
      const o4 = <usize>j * 4;
      const rg = loadPart(a + o4, n);
      const zg = loadPart(a + hb + o4, n);
      const ng = loadPart(a + 2 * hb + o4, n);
      const hn = loadPart(a + 3 * hb + o4, n);
      const dhj = loadPart(dh + s + o4, n);
      const dnPre = f32x4.mul(f32x4.mul(dhj, f32x4.sub(one, zg)), f32x4.sub(one, f32x4.mul(ng, ng)));
      const dzPre = f32x4.mul(f32x4.mul(f32x4.mul(dhj, f32x4.sub(loadPart(hPrev + s + o4, n), ng)), zg), f32x4.sub(one, zg));
      const drPre = f32x4.mul(f32x4.mul(f32x4.mul(dnPre, hn), rg), f32x4.sub(one, rg));
      storePart(dx + o4, drPre, n);
      storePart(dx + hb + o4, dzPre, n);
      storePart(dx + 2 * hb + o4, dnPre, n);
      storePart(dhg + o4, drPre, n);
      storePart(dhg + hb + o4, dzPre, n);
      storePart(dhg + 2 * hb + o4, f32x4.mul(dnPre, rg), n);
      storePart(dhPrev + s + o4, f32x4.mul(dhj, zg), n);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A whole LSTM layer direction (no peepholes, no projection), for the Wasm backend's
// lstmSequence / lstmSequenceBackward. Everything lives in Wasm memory for the whole sequence:
// W_hh is packed once, and each step's hidden GEMM reads h (or dGates) from 4-row panels that the
// previous step's cell wrote beside its row-major output (two buffers, alternating by position, so
// a thread writing the next step's panels never overwrites what another still reads), adds into
// the gates, and the cell runs on the tile that was just computed, while it is in L1.
//
// Threads split the batch rows in whole 4-row panels when there are enough of them: a row's
// recurrence needs only its own state, so each thread runs every step of its rows in one task,
// with no barrier between steps. Otherwise (small batches) they split the hidden units in groups
// of 8 (all four gates of a unit stay with one thread), so a thread's cell needs only its own
// GEMM columns; a step needs every unit of the previous h, so the caller runs one task per step
// (the pool's hand-off is the barrier). Every element is computed by the same code in the same
// order whatever the split: results do not depend on the thread count.

/**
 * Σ_p A[r, p]·B[p, c] over kc for rows r < rows (≤ 4) of one packed 4-row panel at a (depth p's
 * four rows at a + 16·p) and the nu ≤ 8 columns of one packed 8-wide panel at pb; added to (acc)
 * or stored into C (row stride ldc). Both operands packed: every load has a constant offset.
 */
function rowTile(kc: i32, a: usize, rows: i32, pb: usize, c: usize, ldc: i32, nu: i32, acc: bool, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = a;
  let pbb = pb;
  const end = a + <usize>kc * 16;
  for (; pa < end; pa += 16) {
    const b0 = v128.load(pbb);
    const b1 = v128.load(pbb, 16);
    let av = v128.load32_splat(pa);
    c00 = fma(av, b0, c00);
    c01 = fma(av, b1, c01);
    av = v128.load32_splat(pa, 4);
    c10 = fma(av, b0, c10);
    c11 = fma(av, b1, c11);
    av = v128.load32_splat(pa, 8);
    c20 = fma(av, b0, c20);
    c21 = fma(av, b1, c21);
    av = v128.load32_splat(pa, 12);
    c30 = fma(av, b0, c30);
    c31 = fma(av, b1, c31);
    pbb += 32;
  }
  const rb = <usize>ldc * 4;
  if (rows == 4 && nu == 8) {
    let r = c;
    if (acc) {
      v128.store(r, f32x4.add(v128.load(r), c00)); v128.store(r, f32x4.add(v128.load(r, 16), c01), 16); r += rb;
      v128.store(r, f32x4.add(v128.load(r), c10)); v128.store(r, f32x4.add(v128.load(r, 16), c11), 16); r += rb;
      v128.store(r, f32x4.add(v128.load(r), c20)); v128.store(r, f32x4.add(v128.load(r, 16), c21), 16); r += rb;
      v128.store(r, f32x4.add(v128.load(r), c30)); v128.store(r, f32x4.add(v128.load(r, 16), c31), 16);
    } else {
      v128.store(r, c00); v128.store(r, c01, 16); r += rb;
      v128.store(r, c10); v128.store(r, c11, 16); r += rb;
      v128.store(r, c20); v128.store(r, c21, 16); r += rb;
      v128.store(r, c30); v128.store(r, c31, 16);
    }
    return;
  }
  v128.store(tmp, c00); v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  for (let i = 0; i < rows; i++) {
    const row = c + <usize>i * rb;
    for (let j = 0; j < nu; j++) {
      const v = load<f32>(tmp + <usize>(i * 8 + j) * 4);
      const d = row + <usize>j * 4;
      store<f32>(d, acc ? load<f32>(d) + v : v);
    }
  }
}

/** Byte offset of element (r, p) of a [rows, K] matrix packed in 4-row panels (depth-major inside a panel). */
@inline function packedAt(r: i32, p: i32, K: i32): usize {
  return <usize>(((r >> 2) * K + p) * 4 + (r & 3)) * 4;
}

/** Four consecutive columns p.. of row r (n ≤ 4 of them valid) stored into a 4-row-panel packing. */
@inline function storePacked(base: usize, r: i32, p: i32, K: i32, v: v128, n: i32): void {
  const d = base + packedAt(r, p, K);
  store<f32>(d, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(d, f32x4.extract_lane(v, 1), 16);
  if (n > 2) store<f32>(d, f32x4.extract_lane(v, 2), 32);
  if (n > 3) store<f32>(d, f32x4.extract_lane(v, 3), 48);
}

/** Rows [0, rows) of a row-major [rows, K] matrix into 4-row panels at dst (missing rows of the last panel: zeros). */
export function lstmPackRows(src: usize, rows: i32, K: i32, dst: usize): void {
  const padded = (rows + 3) & ~3;
  memory.fill(dst, 0, <usize>(padded * K) * 4);
  for (let r = 0; r < rows; r++) {
    const row = src + <usize>(r * K) * 4;
    for (let p = 0; p < K; p += 4) storePacked(dst, r, p, K, loadPart(row + <usize>p * 4, K - p), K - p);
  }
}

/** Depth slice of the backward's hidden GEMM (4H deep). */
const KB: i32 = 512;

/** The unit groups [g0, g1) of thread tid: ceil(H/8) groups of 8 split evenly (all of them when threads split rows). */
@inline function groupsFrom(H: i32, tid: i32, threads: i32, rowSplit: bool): i32 {
  return rowSplit ? (tid == 0 ? 0 : (H + 7) >> 3) : (((H + 7) >> 3) * tid) / threads;
}

/** The batch rows [r0, r1) of thread tid: whole 4-row panels split evenly (all rows when threads split units). */
@inline function rowsFrom(B: i32, tid: i32, threads: i32, rowSplit: bool): i32 {
  return rowSplit ? min(B, ((((B + 3) >> 2) * tid) / threads) << 2) : (tid == 0 ? 0 : B);
}

/**
 * A gate weight [4H, K] (W_ih or W_hh) packed for the forward: panel (u/8)·4 + g holds Wᵀ's
 * columns gH + u .. gH + u + 7, depth K, so a unit group's four gates are adjacent panels.
 */
export function lstmPackForward(w: usize, H: i32, K: i32, dst: usize): void {
  for (let u = 0; u < H; u += 8) {
    for (let g = 0; g < 4; g++) {
      packB(K, min(8, H - u), w + <usize>((g * H + u) * K) * 4, 1, K, dst + <usize>(((u >> 3) * 4 + g) * K * 8) * 4);
    }
  }
}

/**
 * A gate weight [4H, N] (W_hh, N = H, or W_ih, N = input size) packed for the backward (dh =
 * dGates·W_hh, dx = dGates·W_ih): panel u/8 holds columns u .. u + 7, depth 4H.
 */
export function lstmPackBackward(w: usize, H: i32, N: i32, dst: usize): void {
  packB(4 * H, N, w, N, 1, dst);
}

/** The time step processed at position q (forward order; `reverse` runs T−1 .. 0). */
@inline function stepAt(q: i32, T: i32, reverse: bool): i32 {
  return reverse ? T - 1 - q : q;
}

/**
 * Forward positions [q0, q1) of one LSTM direction, thread tid's unit groups: each step's gates
 * = x·W_ihᵀ + h·W_hhᵀ + bias, then the cell. Descriptor (i32 words): T, B, H, reverse, q0, q1,
 * active (i32 [T]), packed W_hh, gates [T, B, 4H] (activations out), hPrev [T, B, H], cPrev, c, y [T, B, H], hCur, cCur [B, H],
 * scratch, scratch stride, bias [4H] (b_ih + b_hh; 0: none), h panels (two buffers of
 * ceil(B/4)·4·H floats, lstmPackRows layout). hPrev of the first position (and its panels, buffer
 * 0) is filled by the caller; position q writes its successor's hPrev and panels (buffer
 * (q + 1) & 1) for the rows active there. Then x in panels (step t's at t·ceil(B/4)·4·I floats)
 * and W_ih packed as W_hh (lstmPackForward, depth I), I, and whether threads split rows (else units).
 */
export function lstmForwardTask(desc: usize, tid: i32, threads: i32): void {
  const T = load<i32>(desc);
  const B = load<i32>(desc, 4);
  const H = load<i32>(desc, 8);
  const reverse = load<i32>(desc, 12) != 0;
  const q0 = load<i32>(desc, 16);
  const q1 = load<i32>(desc, 20);
  const active = <usize>load<i32>(desc, 24);
  const pw = <usize>load<i32>(desc, 28);
  const gates = <usize>load<i32>(desc, 32);
  const hPrevAll = <usize>load<i32>(desc, 36);
  const cPrevAll = <usize>load<i32>(desc, 40);
  const cAll = <usize>load<i32>(desc, 44);
  const yAll = <usize>load<i32>(desc, 48);
  const hCur = <usize>load<i32>(desc, 52);
  const cCur = <usize>load<i32>(desc, 56);
  const tmp = <usize>load<i32>(desc, 60) + <usize>tid * <usize>load<i32>(desc, 64);
  const bias = <usize>load<i32>(desc, 68);
  const hPack = <usize>load<i32>(desc, 72);
  const xPack = <usize>load<i32>(desc, 76);
  const pwi = <usize>load<i32>(desc, 80);
  const I = load<i32>(desc, 84);
  const rowSplit = load<i32>(desc, 88) != 0;
  const g0 = groupsFrom(H, rowSplit ? 0 : tid, threads, rowSplit);
  const g1 = groupsFrom(H, rowSplit ? 1 : tid + 1, threads, rowSplit);
  const r0 = rowsFrom(B, rowSplit ? tid : 0, threads, rowSplit);
  const r1 = rowsFrom(B, rowSplit ? tid + 1 : 1, threads, rowSplit);
  const hb = <usize>H * 4;
  const G = 4 * H;
  for (let q = q0; q < q1; q++) {
    const t = stepAt(q, T, reverse);
    const bt = load<i32>(active + <usize>t * 4);
    const st = <usize>(t * B * H) * 4;
    const gt = gates + <usize>(t * B * G) * 4;
    const hp = hPack + <usize>((q & 1) * ((B + 3) & ~3) * H) * 4;
    const xp = xPack + <usize>(t * ((B + 3) & ~3) * I) * 4;
    const re = min(r1, bt);
    for (let ug = g0; ug < g1; ug++) {
      const u = ug * 8;
      const nu = min(8, H - u);
      // Panel by panel over every row tile (one 8-wide panel and the rows of h stay in L1), then the cell.
      // x·W_ihᵀ stored, then h·W_hhᵀ (summed on its own, as the one-GEMM projection did) added.
      for (let g = 0; g < 4; g++) {
        const panelX = pwi + <usize>((ug * 4 + g) * I * 8) * 4;
        const panel = pw + <usize>((ug * 4 + g) * H * 8) * 4;
        for (let i0 = r0; i0 < re; i0 += 4) {
          const c = gt + <usize>(i0 * G + u) * 4 + <usize>g * hb;
          rowTile(I, xp + <usize>(i0 * I) * 4, min(4, re - i0), panelX, c, G, nu, false, tmp);
          rowTile(H, hp + <usize>(i0 * H) * 4, min(4, re - i0), panel, c, G, nu, true, tmp);
        }
      }
      const bu = bias != 0 ? bias + <usize>u * 4 : 0;
      for (let r = r0; r < re; r++) {
        const gr = gt + <usize>(r * G + u) * 4;
        const s = st + <usize>(r * H + u) * 4;
        const sc = <usize>(r * H + u) * 4;
        for (let j = 0; j < nu; j += 4) {
          const n = nu - j;
          const o = <usize>j * 4;
          const cp = loadPart(cCur + sc + o, n);
          storePart(cPrevAll + s + o, cp, n);
          const cn = cellForward(gr + o, hb, cp, n, yAll + s + o, bu != 0 ? bu + o : 0);
          storePart(cAll + s + o, cn, n);
          storePart(cCur + sc + o, cn, n);
          storePart(hCur + sc + o, loadPart(yAll + s + o, n), n);
        }
      }
    }
    if (q + 1 < T) {
      // The next position's hPrev: the current state of the rows active there, this thread's units and rows.
      const tn = stepAt(q + 1, T, reverse);
      const btn = load<i32>(active + <usize>tn * 4);
      const sn = hPrevAll + <usize>(tn * B * H) * 4;
      const u0 = g0 * 8;
      const nb = <usize>(min(H, g1 * 8) - u0) * 4;
      const hn = hPack + <usize>(((q + 1) & 1) * ((B + 3) & ~3) * H) * 4;
      if (nb > 0) {
        for (let r = r0; r < min(r1, btn); r++) {
          memory.copy(sn + <usize>(r * H + u0) * 4, hCur + <usize>(r * H + u0) * 4, nb);
          for (let u = u0; u < u0 + (<i32>nb >> 2); u += 4) storePacked(hn, r, u, H, loadPart(hCur + <usize>(r * H + u) * 4, u0 + (<i32>nb >> 2) - u), u0 + (<i32>nb >> 2) - u);
        }
      }
    }
  }
}

/**
 * out[r0..rp, columns of groups g0..g1] = rows of `a` (4-row panels of depth G) · the packed weight
 * panels `pw` (8 columns per group, G deep): the backward's dh = dG·W_hh and dx = dG·W_ih.
 * Depth in slices of KB, so a slice of the panel and of 4 rows of dGates stay in L1.
 */
function panelRowsTimesWeights(a: usize, G: i32, r0: i32, rp: i32, pw: usize, g0: i32, g1: i32, out: usize, ldo: i32, tmp: usize): void {
  for (let g = g0; g < g1; g++) {
    const u = g * 8;
    const panel = pw + <usize>(u * G) * 4;
    for (let k0 = 0; k0 < G; k0 += KB) {
      const kb = min(KB, G - k0);
      for (let i0 = r0; i0 < rp; i0 += 4) {
        rowTile(kb, a + <usize>(i0 * G + k0 * 4) * 4, min(4, rp - i0), panel + <usize>(k0 * 8) * 4, out + <usize>(i0 * ldo + u) * 4, ldo, min(8, ldo - u), k0 > 0, tmp);
      }
    }
  }
}

/**
 * Backward positions [q0, q1) (q counts processed steps, last time step first; q = T only
 * finishes the GEMM of position T−1), thread tid's units. Position q first completes the carried
 * dh of the previous position's rows, dh = dGates·W_hh, then runs the cell adjoint of its own
 * step with dh + dy. Descriptor: T, B, H, reverse, q0, q1, active, packed W_hh (backward layout),
 * act [T, B, 4H], dy [T, B, H], cPrev, c [T, B, H], (unused), dh [B, H], dc [B, H]
 * (carried, in and out), scratch, scratch stride, dGates panels (two buffers of ceil(B/4)·4·4H
 * floats: position q's cell writes buffer q & 1, which position q + 1's GEMM reads), packed W_ih
 * (backward layout), input size I, dInput [T, B, I] (0: not wanted; rows of inactive steps are
 * left alone), whether threads split rows (else units). The input gradient of a step, dx =
 * dGates·W_ih, runs beside its dh, on the same panels of dGates (split by rows, or by columns in
 * groups of 8 as the units).
 *
 * Then the operands of the weight gradients, so that they are one GEMM on packed operands with
 * nothing packed afterwards: dGᵀ [4H, T·B] in 4-row panels of depth T·B (0: no weight or bias
 * gradient wanted; column m = t·B + r; the cell of (t, r) stores each gate's four units as one
 * vector when H is a multiple of 4), and [hPrev | x] [T·B, H + I] in 8-column panels of depth
 * T·B (ceil(H/8) panels of hPrev, then ceil(I/8) of x; each position packs its own rows, from
 * hPrev [T, B, H] and x [T, B, I]). Words: dGᵀ panels, [hPrev | x] panels, x, phase (0: the
 * positions; 1: lstmWeightGradients), dW_hh [4H, H], dW_ih [4H, I], dBias [4H] (0: none).
 */
export function lstmBackwardTask(desc: usize, tid: i32, threads: i32): void {
  if (load<i32>(desc, 100) != 0) {
    lstmWeightGradients(desc, tid, threads);
    return;
  }
  const T = load<i32>(desc);
  const B = load<i32>(desc, 4);
  const H = load<i32>(desc, 8);
  const reverse = load<i32>(desc, 12) != 0;
  const q0 = load<i32>(desc, 16);
  const q1 = load<i32>(desc, 20);
  const active = <usize>load<i32>(desc, 24);
  const pw = <usize>load<i32>(desc, 28);
  const act = <usize>load<i32>(desc, 32);
  const dyAll = <usize>load<i32>(desc, 36);
  const cPrevAll = <usize>load<i32>(desc, 40);
  const cAll = <usize>load<i32>(desc, 44);
  const hPrevAll = <usize>load<i32>(desc, 48);
  const dh = <usize>load<i32>(desc, 52);
  const dc = <usize>load<i32>(desc, 56);
  const tmp = <usize>load<i32>(desc, 60) + <usize>tid * <usize>load<i32>(desc, 64);
  const dgPack = <usize>load<i32>(desc, 68);
  const pwi = <usize>load<i32>(desc, 72);
  const I = load<i32>(desc, 76);
  const dIn = <usize>load<i32>(desc, 80);
  const rowSplit = load<i32>(desc, 84) != 0;
  const aT = <usize>load<i32>(desc, 88);
  const bPack = <usize>load<i32>(desc, 92);
  const xAll = <usize>load<i32>(desc, 96);
  const g0 = groupsFrom(H, rowSplit ? 0 : tid, threads, rowSplit);
  const g1 = groupsFrom(H, rowSplit ? 1 : tid + 1, threads, rowSplit);
  const x0 = groupsFrom(I, rowSplit ? 0 : tid, threads, rowSplit);
  const x1 = groupsFrom(I, rowSplit ? 1 : tid + 1, threads, rowSplit);
  const r0 = rowsFrom(B, rowSplit ? tid : 0, threads, rowSplit);
  const r1 = rowsFrom(B, rowSplit ? tid + 1 : 1, threads, rowSplit);
  const hb = <usize>H * 4;
  const G = 4 * H;
  const TB = T * B;
  const packBytes = <usize>(((B + 3) & ~3) * G) * 4;
  // The cell's four gate vectors go through L1 (tmp + 256) to both packings.
  const cellOut = tmp + 256;
  // Bytes between one gate's panels and the next's in dGᵀ (H/4 panels per gate, when H % 4 == 0).
  const gateStride = <usize>(H >> 2) * <usize>TB * 16;
  const quads = (H & 3) == 0;
  const nHp = (H + 7) >> 3;
  for (let q = q0; q < q1; q++) {
    if (q > 0) {
      const dgpp = dgPack + <usize>((q - 1) & 1) * packBytes;
      const tp = stepAt(T - q, T, reverse);
      const btp = load<i32>(active + <usize>tp * 4);
      const rp = min(r1, btp);
      panelRowsTimesWeights(dgpp, G, r0, rp, pw, g0, g1, dh, H, tmp);
      if (dIn != 0) panelRowsTimesWeights(dgpp, G, r0, rp, pwi, x0, x1, dIn + <usize>(tp * B * I) * 4, I, tmp);
    }
    if (q == T) continue;
    const t = stepAt(T - 1 - q, T, reverse);
    const bt = load<i32>(active + <usize>t * 4);
    const st = <usize>(t * B * H) * 4;
    const gt = <usize>(t * B * G) * 4;
    // This step's gate gradients also go to 4-row panels, the next position's GEMM operand.
    const dgq = dgPack + <usize>(q & 1) * packBytes;
    for (let r = r0; r < min(r1, bt); r++) {
      const m = t * B + r;
      for (let ug = g0; ug < g1; ug++) {
        const u = ug * 8;
        const nu = min(8, H - u);
        for (let j = 0; j < nu; j += 4) {
          const n = nu - j;
          const so = <usize>(r * H + u + j) * 4;
          const go = gt + <usize>(r * G + u + j) * 4;
          const dhj = f32x4.add(loadPart(dh + so, n), loadPart(dyAll + st + so, n));
          const dcp = cellBackward(act + go, cellOut, hb, 16, dhj, loadPart(dc + so, n), loadPart(cPrevAll + st + so, n), loadPart(cAll + st + so, n), n);
          storePart(dc + so, dcp, n);
          const p = u + j;
          const v0 = v128.load(cellOut);
          const v1 = v128.load(cellOut, 16);
          const v2 = v128.load(cellOut, 32);
          const v3 = v128.load(cellOut, 48);
          storePacked(dgq, r, p, G, v0, n);
          storePacked(dgq, r, p + H, G, v1, n);
          storePacked(dgq, r, p + 2 * H, G, v2, n);
          storePacked(dgq, r, p + 3 * H, G, v3, n);
          if (aT != 0) {
            if (quads) {
              const d = aT + (<usize>(p >> 2) * <usize>TB + <usize>m) * 16;
              v128.store(d, v0);
              v128.store(d + gateStride, v1);
              v128.store(d + 2 * gateStride, v2);
              v128.store(d + 3 * gateStride, v3);
            } else {
              storeColumns(aT, TB, m, p, v0, n);
              storeColumns(aT, TB, m, p + H, v1, n);
              storeColumns(aT, TB, m, p + 2 * H, v2, n);
              storeColumns(aT, TB, m, p + 3 * H, v3, n);
            }
          }
        }
      }
      if (aT != 0) {
        // Row m of [hPrev | x] into the weight gradients' panels: this thread's unit (and input) groups.
        const hRow = hPrevAll + st + <usize>(r * H) * 4;
        for (let ug = g0; ug < g1; ug++) packRow8(hRow, ug * 8, H, bPack + (<usize>ug * <usize>TB + <usize>m) * 32);
        const xRow = xAll + <usize>(m * I) * 4;
        for (let xg = x0; xg < x1; xg++) packRow8(xRow, xg * 8, I, bPack + (<usize>(nHp + xg) * <usize>TB + <usize>m) * 32);
      }
    }
  }
}

/** Columns c .. c + n − 1 (n ≤ 4) of row m stored into dGᵀ's 4-row panels: element (c, m) at 16·((c/4)·TB + m) + 4·(c % 4). */
@inline function storeColumns(base: usize, TB: i32, m: i32, c: i32, v: v128, n: i32): void {
  store<f32>(columnAt(base, TB, m, c), f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(columnAt(base, TB, m, c + 1), f32x4.extract_lane(v, 1));
  if (n > 2) store<f32>(columnAt(base, TB, m, c + 2), f32x4.extract_lane(v, 2));
  if (n > 3) store<f32>(columnAt(base, TB, m, c + 3), f32x4.extract_lane(v, 3));
}

@inline function columnAt(base: usize, TB: i32, m: i32, c: i32): usize {
  return base + (<usize>(c >> 2) * <usize>TB + <usize>m) * 16 + <usize>(c & 3) * 4;
}

/** Elements c .. c + 7 of a row of length n (zeros past its end) to the 8 floats at dst. */
@inline function packRow8(row: usize, c: i32, n: i32, dst: usize): void {
  const s = row + <usize>c * 4;
  const left = n - c;
  if (left >= 8) {
    v128.store(dst, v128.load(s));
    v128.store(dst, v128.load(s, 16), 16);
  } else {
    v128.store(dst, loadPart(s, left));
    v128.store(dst, left > 4 ? loadPart(s + 16, left - 4) : f32x4.splat(0), 16);
  }
}

/** Depth slice and row-panel block of the weight-gradient GEMM: a B panel slice (8 KiB) stays in L1 across a block's A panels. */
const WK: i32 = 256;
const WP: i32 = 8;

/**
 * [dW_hh | dW_ih] = dGᵀ · [hPrev | x] over all T·B rows (lstmBackwardTask's descriptor, phase 1),
 * and dBias = the row sums of dGᵀ; thread tid takes its share of dGᵀ's 4-row panels (of output
 * rows), so every element is summed in the same order whatever the thread count.
 */
function lstmWeightGradients(desc: usize, tid: i32, threads: i32): void {
  const T = load<i32>(desc);
  const B = load<i32>(desc, 4);
  const H = load<i32>(desc, 8);
  const tmp = <usize>load<i32>(desc, 60) + <usize>tid * <usize>load<i32>(desc, 64);
  const I = load<i32>(desc, 76);
  const aT = <usize>load<i32>(desc, 88);
  const bPack = <usize>load<i32>(desc, 92);
  const dWhh = <usize>load<i32>(desc, 104);
  const dWih = <usize>load<i32>(desc, 108);
  const dBias = <usize>load<i32>(desc, 112);
  const G = 4 * H;
  const TB = T * B;
  const P = (G + 3) >> 2;
  const p0 = (P * tid) / threads;
  const p1 = (P * (tid + 1)) / threads;
  const nHp = (H + 7) >> 3;
  const nXp = (I + 7) >> 3;
  for (let k0 = 0; k0 < TB; k0 += WK) {
    const kc = min(WK, TB - k0);
    for (let b0 = p0; b0 < p1; b0 += WP) {
      const b1 = min(p1, b0 + WP);
      for (let j = 0; j < nHp + nXp; j++) {
        const isH = j < nHp;
        const col = (isH ? j : j - nHp) * 8;
        const ldc = isH ? H : I;
        const out = (isH ? dWhh : dWih) + <usize>col * 4;
        const nu = min(8, ldc - col);
        const pb = bPack + (<usize>j * <usize>TB + <usize>k0) * 32;
        for (let p = b0; p < b1; p++) {
          rowTile(kc, aT + (<usize>p * <usize>TB + <usize>k0) * 16, min(4, G - 4 * p), pb, out + <usize>(4 * p * ldc) * 4, ldc, nu, k0 > 0, tmp);
        }
      }
    }
  }
  if (dBias == 0) return;
  for (let p = p0; p < p1; p++) {
    const a = aT + <usize>p * <usize>TB * 16;
    let s = f32x4.splat(0);
    for (let m = 0; m < TB; m++) s = f32x4.add(s, v128.load(a + <usize>m * 16));
    storePart(dBias + <usize>(4 * p) * 4, s, G - 4 * p);
  }
}

/** dst [n] = Σ over rows of src [rows, n], rows added in order (the bias gradient of a sequence). */
export function columnSumsF32(src: usize, rows: i32, n: i32, dst: usize): void {
  memory.fill(dst, 0, <usize>n * 4);
  for (let r = 0; r < rows; r++) {
    const row = src + <usize>(r * n) * 4;
    for (let j = 0; j < n; j += 4) {
      const m = n - j;
      const o = <usize>j * 4;
      storePart(dst + o, f32x4.add(loadPart(dst + o, m), loadPart(row + o, m)), m);
    }
  }
}
