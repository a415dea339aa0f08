// Fused recurrent cells for Kiln's wasm backend: the gate nonlinearities of one LSTM or GRU
// time step (and their adjoints) over `batch` rows, four hidden units per f32x4, in one pass.
// The equations are those of backend.ts (LstmCellArgs, GruCellArgs, ...) without peepholes.
//
// exp is computed in single precision: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in a high part
// exact in float32 and a low part, so n·ln2 loses nothing), eʳ by its Taylor series to r⁷ (the
// next term is below 6e-9 of the value), and 2ⁿ built from the exponent bits. σ(x) = 1/(1+e⁻ˣ);
// tanh(x) = ±(1 − 2/(e^{2|x|}+1)), or its odd series to x⁷ below |x| = 0.1 where the
// subtraction would cancel digits.

const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.4286067653301870e-6;

@inline function vexp(x: v128): v128 {
  const v = f32x4.min(f32x4.max(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(v, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(v, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(<f32>(1.0 / 5040.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 720.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
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
 * LSTM step: gates [B, 4H] (i, f, g, o pre-activations) become act (i, f, g, o) in place;
 * c [B, H] = f⊙cPrev + i⊙g, h [B, H] = o⊙tanh(c).
 */
export function lstmCellF32(B: i32, H: i32, gates: usize, cPrev: usize, c: usize, h: usize): void {
  for (let r = 0; r < B; r++) {
    const g = gates + <usize>(r * 4 * H) * 4;
    const s = <usize>(r * H) * 4;
    for (let j = 0; j < H; j += 4) {
      const n = H - j;
      const o4 = <usize>j * 4;
      const hb = <usize>H * 4;
      const ig = vsigmoid(loadPart(g + o4, n));
      const fg = vsigmoid(loadPart(g + hb + o4, n));
      const gg = vtanh(loadPart(g + 2 * hb + o4, n));
      const og = vsigmoid(loadPart(g + 3 * hb + o4, n));
      const cn = f32x4.add(f32x4.mul(fg, loadPart(cPrev + s + o4, n)), f32x4.mul(ig, gg));
      storePart(g + o4, ig, n);
      storePart(g + hb + o4, fg, n);
      storePart(g + 2 * hb + o4, gg, n);
      storePart(g + 3 * hb + o4, og, n);
      storePart(c + s + o4, cn, n);
      storePart(h + s + o4, f32x4.mul(og, vtanh(cn)), n);
    }
  }
}

/**
 * The adjoint of lstmCellF32 from act [B, 4H], cPrev, c and the incoming dh, dc [B, H]:
 * dGates [B, 4H] and dcPrev [B, H] (may be dc).
 */
export function lstmCellBackwardF32(B: i32, H: i32, dh: usize, dc: usize, act: usize, cPrev: usize, c: usize, dGates: usize, dcPrev: usize): void {
  const one = f32x4.splat(1.0);
  for (let r = 0; r < B; r++) {
    const a = act + <usize>(r * 4 * H) * 4;
    const d = dGates + <usize>(r * 4 * H) * 4;
    const s = <usize>(r * H) * 4;
    const hb = <usize>H * 4;
    for (let j = 0; j < H; j += 4) {
      const n = H - j;
      const o4 = <usize>j * 4;
      const ig = loadPart(a + o4, n);
      const fg = loadPart(a + hb + o4, n);
      const gg = loadPart(a + 2 * hb + o4, n);
      const og = loadPart(a + 3 * hb + o4, n);
      const tc = vtanh(loadPart(c + s + o4, n));
      const dhj = loadPart(dh + s + o4, n);
      const dOut = f32x4.mul(f32x4.mul(f32x4.mul(dhj, tc), og), f32x4.sub(one, og));
      const dcj = f32x4.add(loadPart(dc + s + o4, n), f32x4.mul(f32x4.mul(dhj, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      const dIn = f32x4.mul(f32x4.mul(f32x4.mul(dcj, gg), ig), f32x4.sub(one, ig));
      const dForget = f32x4.mul(f32x4.mul(f32x4.mul(dcj, loadPart(cPrev + s + o4, n)), fg), f32x4.sub(one, fg));
      const dCand = f32x4.mul(f32x4.mul(dcj, ig), f32x4.sub(one, f32x4.mul(gg, gg)));
      storePart(d + o4, dIn, n);
      storePart(d + hb + o4, dForget, n);
      storePart(d + 2 * hb + o4, dCand, n);
      storePart(d + 3 * hb + o4, dOut, n);
      storePart(dcPrev + s + o4, f32x4.mul(dcj, fg), n);
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
