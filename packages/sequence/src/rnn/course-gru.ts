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
 * It runs as @kiln/tensor's gruRecurrence with `linearBeforeReset: false` (reset before the
 * matmul, on composed ops — a teaching form, not the fused fast path) on weights whose update
 * block is negated, since σ(−a) = 1 − σ(a) turns z into Γu.
 */
import { cat, gruRecurrence, type Tensor } from '@kiln/tensor';

export interface CourseGruArgs {
  input: Tensor; // [T, B, I] ([B, T, I] with batchFirst)
  h0: Tensor | null; // [B, H]
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
  lengths: number[] | null;
  reverse: boolean;
  batchFirst?: boolean;
}

/** Rows [H, 2H) (the update gate) of `w` negated. */
function negateUpdate(w: Tensor, H: number): Tensor {
  return cat([w.narrow(0, 0, H), w.narrow(0, H, H).neg(), w.narrow(0, 2 * H, H)], 0);
}

/** One direction of one layer over the sequence; returns [output [T, B, H], hN [B, H]]. */
export function courseGruRecurrence(a: CourseGruArgs): [Tensor, Tensor] {
  const H = a.weightHh.shape[1]!;
  return gruRecurrence({
    ...a,
    weightIh: negateUpdate(a.weightIh, H),
    weightHh: negateUpdate(a.weightHh, H),
    biasIh: a.biasIh ? negateUpdate(a.biasIh, H) : null,
    biasHh: a.biasHh ? negateUpdate(a.biasHh, H) : null,
    linearBeforeReset: false,
  });
}
