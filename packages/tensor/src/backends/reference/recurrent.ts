/**
 * Recurrent cells: the fused gate nonlinearities of one RNN/LSTM/GRU time step and their
 * adjoints (equations in backend.ts beside the argument types). One pass over each row's gates;
 * every value is read before the slot holding it is overwritten, so the documented aliasing
 * (act = gates, dPre = dh, dcPrev = dc) is safe.
 */
import type {
  GruCellArgs, GruCellBackwardArgs, LstmCellArgs, LstmCellBackwardArgs, RnnCellArgs, RnnCellBackwardArgs,
} from '../../backend.js';

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
