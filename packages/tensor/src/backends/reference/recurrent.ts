/**
 * Recurrent cells: the fused gate nonlinearities of one RNN/LSTM/GRU time step and their
 * adjoints (equations in backend.ts beside the argument types). One pass over each row's gates;
 * every value is read before the slot holding it is overwritten, so the documented aliasing
 * (act = gates, dPre = dh, dcPrev = dc) is safe.
 */
import type {
  GruCellArgs, GruCellBackwardArgs, Kernels, LstmCellArgs, LstmCellBackwardArgs, LstmSequenceArgs, LstmSequenceBackwardArgs,
  RnnCellArgs, RnnCellBackwardArgs,
} from '../../backend.js';
import { gemm } from './gemm.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function rnnCell({ batch, hidden, nonlinearity, pre, h }: RnnCellArgs): void {
  const n = batch * hidden;
  if (nonlinearity === 'tanh') for (let i = 0; i < n; i++) h[i] = Math.tanh(pre[i]!);
  else for (let i = 0; i < n; i++) h[i] = pre[i]! > 0 ? pre[i]! : 0;
}

export function rnnCellBackward({ batch, hidden, nonlinearity, dh, h, dPre }: RnnCellBackwardArgs): void {
  const n = batch * hidden;
  if (nonlinearity === 'tanh') {
    for (let i = 0; i < n; i++) dPre[i] = dh[i]! * (1 - h[i]! * h[i]!);
  } else {
    for (let i = 0; i < n; i++) dPre[i] = h[i]! > 0 ? dh[i]! : 0;
  }
}

export function lstmCell({ batch, hidden: H, gates, cPrev, peep, act, c, h }: LstmCellArgs): void {
  for (let r = 0; r < batch; r++) {
    const g0 = r * 4 * H;
    const s0 = r * H;
    for (let j = 0; j < H; j++) {
      const c0 = cPrev[s0 + j]!;
      const pi = peep ? peep[j]! * c0 : 0;
      const pf = peep ? peep[H + j]! * c0 : 0;
      const ig = sigmoid(gates[g0 + j]! + pi);
      const fg = sigmoid(gates[g0 + H + j]! + pf);
      const gg = Math.tanh(gates[g0 + 2 * H + j]!);
      const cNew = fg * c0 + ig * gg;
      // Round c to the array's precision before o and h use it, as a float32 framework would.
      c[s0 + j] = cNew;
      const cs = c[s0 + j]!;
      const og = sigmoid(gates[g0 + 3 * H + j]! + (peep ? peep[2 * H + j]! * cs : 0));
      act[g0 + j] = ig;
      act[g0 + H + j] = fg;
      act[g0 + 2 * H + j] = gg;
      act[g0 + 3 * H + j] = og;
      h[s0 + j] = og * Math.tanh(cs);
    }
  }
}

export function lstmCellBackward(a: LstmCellBackwardArgs): void {
  const { batch, hidden: H, dh, dc, act, cPrev, c, peep, dGates, dcPrev, dPeep } = a;
  for (let r = 0; r < batch; r++) {
    const g0 = r * 4 * H;
    const s0 = r * H;
    for (let j = 0; j < H; j++) {
      const ig = act[g0 + j]!;
      const fg = act[g0 + H + j]!;
      const gg = act[g0 + 2 * H + j]!;
      const og = act[g0 + 3 * H + j]!;
      const c0 = cPrev[s0 + j]!;
      const c1 = c[s0 + j]!;
      const tc = Math.tanh(c1);
      const dhj = dh[s0 + j]!;
      const dOut = dhj * tc * og * (1 - og);
      let dcj = dc[s0 + j]! + dhj * og * (1 - tc * tc);
      if (peep) dcj += dOut * peep[2 * H + j]!;
      const dIn = dcj * gg * ig * (1 - ig);
      const dForget = dcj * c0 * fg * (1 - fg);
      const dCand = dcj * ig * (1 - gg * gg);
      let dc0 = dcj * fg;
      if (peep) {
        dc0 += dIn * peep[j]! + dForget * peep[H + j]!;
        dPeep![j] = dPeep![j]! + dIn * c0;
        dPeep![H + j] = dPeep![H + j]! + dForget * c0;
        dPeep![2 * H + j] = dPeep![2 * H + j]! + dOut * c1;
      }
      dGates[g0 + j] = dIn;
      dGates[g0 + H + j] = dForget;
      dGates[g0 + 2 * H + j] = dCand;
      dGates[g0 + 3 * H + j] = dOut;
      dcPrev[s0 + j] = dc0;
    }
  }
}

export function gruCell({ batch, hidden: H, xGates, hGates, hPrev, act, h }: GruCellArgs): void {
  for (let r = 0; r < batch; r++) {
    const g0 = r * 3 * H;
    const a0 = r * 4 * H;
    const s0 = r * H;
    for (let j = 0; j < H; j++) {
      const rg = sigmoid(xGates[g0 + j]! + hGates[g0 + j]!);
      const zg = sigmoid(xGates[g0 + H + j]! + hGates[g0 + H + j]!);
      const hn = hGates[g0 + 2 * H + j]!;
      const ng = Math.tanh(xGates[g0 + 2 * H + j]! + rg * hn);
      act[a0 + j] = rg;
      act[a0 + H + j] = zg;
      act[a0 + 2 * H + j] = ng;
      act[a0 + 3 * H + j] = hn;
      h[s0 + j] = (1 - zg) * ng + zg * hPrev[s0 + j]!;
    }
  }
}

export function gruCellBackward({ batch, hidden: H, dh, act, hPrev, dxGates, dhGates, dhPrev }: GruCellBackwardArgs): void {
  for (let r = 0; r < batch; r++) {
    const g0 = r * 3 * H;
    const a0 = r * 4 * H;
    const s0 = r * H;
    for (let j = 0; j < H; j++) {
      const rg = act[a0 + j]!;
      const zg = act[a0 + H + j]!;
      const ng = act[a0 + 2 * H + j]!;
      const hn = act[a0 + 3 * H + j]!;
      const dhj = dh[s0 + j]!;
      const dnPre = dhj * (1 - zg) * (1 - ng * ng);
      const dzPre = dhj * (hPrev[s0 + j]! - ng) * zg * (1 - zg);
      const drPre = dnPre * hn * rg * (1 - rg);
      dxGates[g0 + j] = drPre;
      dxGates[g0 + H + j] = dzPre;
      dxGates[g0 + 2 * H + j] = dnPre;
      dhGates[g0 + j] = drPre;
      dhGates[g0 + H + j] = dzPre;
      dhGates[g0 + 2 * H + j] = dnPre * rg;
      dhPrev[s0 + j] = dhj * zg;
    }
  }
}

type Float = Float32Array | Float64Array;
/** The kernels a whole-sequence LSTM is composed of (another backend passes its own). */
export type LstmStepKernels = Pick<Kernels, 'gemm' | 'lstmCell' | 'lstmCellBackward'>;

/** C (m×n at cOff) = op(A)·op(B) (+ C), dense row-major blocks. */
function mm(k: LstmStepKernels, a: Float, b: Float, c: Float, cOff: number, m: number, n: number, kk: number, transA: boolean, transB: boolean, accumulate: boolean): void {
  if (m === 0 || n === 0) return;
  k.gemm({
    batch: 1, m, n, k: kk, transA, transB, a, aOffset: 0, aBatchStride: 0, b, bOffset: 0, bBatchStride: 0,
    c, cOffset: cOff, cBatchStride: 0, accumulate,
  });
}

const like = (x: Float, n: number): Float => (x instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));

/**
 * lstmSequence composed of one GEMM for every step's input projection, then per step one GEMM
 * (two with a projection) and one lstmCell.
 */
export function lstmSequenceOn(k: LstmStepKernels, a: LstmSequenceArgs): void {
  const { steps: T, batch: B, hidden: H, stateSize: P, inputSize: I, active, reverse, weightHh, weightHr, peep, h, c, output, hPrev, cPrev, cAll, mAll } = a;
  const G = 4 * H;
  const gates = a.act;
  // The input projection of every step, biases preloaded (typed-array copies, memcpy speed).
  const bias = a.biasIh || a.biasHh ? like(gates, G) : null;
  if (bias) {
    for (let j = 0; j < G; j++) bias[j] = (a.biasIh ? a.biasIh[j]! : 0) + (a.biasHh ? a.biasHh[j]! : 0);
    for (let r = 0; r < T * B; r++) gates.set(bias, r * G);
  }
  mm(k, a.input, a.weightIh, gates, 0, T * B, G, I, false, true, bias !== null);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const bt = active[t]!;
    if (bt === 0) continue;
    const hp = hPrev.subarray(t * B * P, (t * B + bt) * P);
    hp.set(h.subarray(0, bt * P));
    const gOff = t * B * G;
    mm(k, hp, weightHh, gates, gOff, bt, G, P, false, true, true);
    const g = gates.subarray(gOff, gOff + bt * G);
    const cp = cPrev.subarray(t * B * H, (t * B + bt) * H);
    cp.set(c.subarray(0, bt * H));
    const cn = cAll.subarray(t * B * H, (t * B + bt) * H);
    const yt = output.subarray(t * B * P, (t * B + bt) * P);
    const m = weightHr ? mAll!.subarray(t * B * H, (t * B + bt) * H) : yt;
    k.lstmCell({ batch: bt, hidden: H, gates: g, cPrev: cp, peep, act: g, c: cn, h: m });
    if (weightHr) mm(k, m, weightHr, yt, 0, bt, P, H, false, true, false);
    c.set(cn, 0);
    h.set(yt, 0);
  }
}

/**
 * lstmSequenceBackward composed of lstmCellBackward and one GEMM (two with a projection) per
 * step, then one GEMM for each weight gradient and for dInput over all steps.
 */
export function lstmSequenceBackwardOn(k: LstmStepKernels, a: LstmSequenceBackwardArgs): void {
  const { steps: T, batch: B, hidden: H, stateSize: P, inputSize: I, active, reverse, dOutput, dh, dc, act, cPrev, cAll, weightHh, weightHr, peep, dPeep } = a;
  const G = 4 * H;
  const TB = T * B;
  const dG = like(dh, TB * G);
  const dhAll = like(dh, weightHr ? TB * P : 0);
  const dhT = like(dh, B * P);
  const dmT = like(dh, weightHr ? B * H : 0);
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const bt = active[t]!;
    if (bt === 0) continue;
    const d = dhT.subarray(0, bt * P);
    const dy = dOutput.subarray(t * B * P, (t * B + bt) * P);
    for (let i = 0; i < bt * P; i++) d[i] = dh[i]! + dy[i]!;
    let dm = d;
    if (weightHr) {
      dhAll.set(d, t * B * P);
      dm = dmT.subarray(0, bt * H);
      mm(k, d, weightHr, dm, 0, bt, H, P, false, false, false);
    }
    const gOff = t * B * G;
    const dGt = dG.subarray(gOff, gOff + bt * G);
    const dcs = dc.subarray(0, bt * H);
    k.lstmCellBackward({
      batch: bt, hidden: H, dh: dm, dc: dcs, act: act.subarray(gOff, gOff + bt * G),
      cPrev: cPrev.subarray(t * B * H, (t * B + bt) * H), c: cAll.subarray(t * B * H, (t * B + bt) * H),
      peep, dGates: dGt, dcPrev: dcs, dPeep,
    });
    mm(k, dGt, weightHh, dh, 0, bt, P, G, false, false, false);
  }
  if (a.dInput) mm(k, dG, a.weightIh, a.dInput, 0, TB, I, G, false, false, false);
  if (a.dWeightIh) mm(k, dG, a.input, a.dWeightIh, 0, G, I, TB, true, false, false);
  if (a.dWeightHh) mm(k, dG, a.hPrev, a.dWeightHh, 0, G, P, TB, true, false, false);
  if (a.dWeightHr) mm(k, dhAll, a.mAll!, a.dWeightHr, 0, P, H, TB, true, false, false);
  if (a.dBias) {
    const db = a.dBias;
    db.fill(0);
    for (let r = 0; r < TB; r++) for (let j = 0; j < G; j++) db[j] = db[j]! + dG[r * G + j]!;
  }
}

export const lstmSequence = (a: LstmSequenceArgs): void => lstmSequenceOn({ gemm, lstmCell, lstmCellBackward }, a);
export const lstmSequenceBackward = (a: LstmSequenceBackwardArgs): void => lstmSequenceBackwardOn({ gemm, lstmCell, lstmCellBackward }, a);
