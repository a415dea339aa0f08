/**
 * The GRU as the course writes it (Γu, Γr, reset applied to h before its matmul):
 *
 *   Γr = σ(W_ir·x + b_ir + W_hr·h + b_hr)
 *   Γu = σ(W_iu·x + b_iu + W_hu·h + b_hu)
 *   h̃  = tanh(W_in·x + b_in + W_hn·(Γr ⊙ h) + b_hn)
 *   h' = Γu ⊙ h̃ + (1 − Γu) ⊙ h
 *
 * It differs from PyTorch's GRU twice: (1) PyTorch resets after the matmul,
 * n = tanh(W_in·x + b_in + Γr ⊙ (W_hn·h + b_hn)); (2) PyTorch's update gate z keeps the old
 * state, h' = (1 − z) ⊙ n + z ⊙ h, so Γu plays the role of 1 − z. The weights keep PyTorch's
 * layout and names (rows r, u, n in weight_ih/weight_hh) so checkpoints have the same keys; the
 * values mean different things. In ONNX this is GRU with linear_before_reset = 0 and the update
 * gate's weights and biases negated (σ(−a) = 1 − σ(a)).
 *
 * A teaching form: it runs on composed tensor ops (three per gate per step), not on a fused
 * kernel; the fast path is the PyTorch form.
 */
import { linear, stack, Tensor, zeros } from '@kiln/tensor';

export interface CourseGruArgs {
  input: Tensor; // [T, B, I]
  h0: Tensor | null; // [B, H]
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
  lengths: number[] | null;
  reverse: boolean;
}

/** One direction of one layer over the sequence; returns [output [T, B, H], hN [B, H]]. */
export function courseGruRecurrence(a: CourseGruArgs): [Tensor, Tensor] {
  const [T, B] = a.input.shape as [number, number, number];
  const H = a.weightHh.shape[1]!;
  const dtype = a.input.dtype as 'float32' | 'float64';
  const xp = linear(a.input, a.weightIh, a.biasIh).split(1, 0).map((s) => s.reshape([B, 3 * H]));
  const wRU = a.weightHh.narrow(0, 0, 2 * H);
  const wN = a.weightHh.narrow(0, 2 * H, H);
  const bRU = a.biasHh ? a.biasHh.narrow(0, 0, 2 * H) : null;
  const bN = a.biasHh ? a.biasHh.narrow(0, 2 * H, H) : null;
  let h = a.h0 ?? zeros([B, H], { dtype });
  const outs = new Array<Tensor>(T);
  for (let s = 0; s < T; s++) {
    const t = a.reverse ? T - 1 - s : s;
    const x = xp[t]!;
    const ru = x.narrow(1, 0, 2 * H).add(linear(h, wRU, bRU)).sigmoid();
    const r = ru.narrow(1, 0, H);
    const u = ru.narrow(1, H, H);
    const cand = x.narrow(1, 2 * H, H).add(linear(r.mul(h), wN, bN)).tanh();
    let next = h.add(u.mul(cand.sub(h)));
    if (a.lengths) {
      // Rows past their length keep their state (and, in reverse, start at their own end).
      const m = new Float64Array(B);
      a.lengths.forEach((l, b) => { m[b] = t < l ? 1 : 0; });
      const mask = new Tensor(dtype === 'float64' ? m : Float32Array.from(m), [B, 1], dtype);
      next = h.add(next.sub(h).mul(mask));
      outs[t] = next.mul(mask);
    } else {
      outs[t] = next;
    }
    h = next;
  }
  return [stack(outs, 0), h];
}
