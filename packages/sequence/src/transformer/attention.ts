/**
 * Scaled dot-product attention and multi-head attention (course 5.4), with PyTorch's semantics:
 *
 *   Attention(Q, K, V) = softmax(Q·Kᵀ/√d_k + M)·V
 *
 * Masks: a bool mask marks positions that must NOT be attended (true = masked out, as
 * `attn_mask`/`key_padding_mask` of `torch.nn.MultiheadAttention`; note that torch 2's functional
 * `scaled_dot_product_attention` uses the opposite convention for bool masks); a float mask is
 * added to the scores (0 keeps, −∞ masks). A query row whose keys are all masked gives NaN, as in
 * PyTorch.
 *
 * `MultiheadAttention` keeps PyTorch's parameter names (`in_proj_weight` [3E, E], `in_proj_bias`,
 * `out_proj.weight`, `out_proj.bias`; with kdim/vdim ≠ E: `q_proj_weight`, `k_proj_weight`,
 * `v_proj_weight`), so `torch.nn.MultiheadAttention` state dicts load unchanged.
 *
 * Projections are one GEMM each over all batch×length rows (`linear`), the 1/√d scaling is folded
 * into the query projection's weight and bias, heads are split and merged by one permute each
 * (keys straight into [B, H, D, S]), and softmax is the fused kernel. While the ONNX exporter
 * traces, heads are sliced along the feature axis instead (same numbers), so that the exported
 * graph has no Reshape baked to one sequence length.
 */
import { Tensor, cat, checkOptions, dropout as dropoutOp, isTracing, keep, linear, ones, where, zeros, type Generator } from '@kiln/tensor';
import { Linear, Module, parameter, xavierUniform_ } from '@kiln/nn';
import { shapeStr, generatorKind } from '../utils/options.js';

const describe = (v: unknown): string => (v instanceof Tensor ? `${v.dtype} ${shapeStr(v.shape)}` : v === null ? 'null' : typeof v);

/** Throws unless `mask` is bool or float and broadcasts to `target` (the scores' shape). */
export function checkMask(fn: string, name: string, mask: unknown, target: readonly number[], dtype: string): Tensor {
  if (!(mask instanceof Tensor)) throw new Error(`Kiln: ${fn}: ${name} must be a Tensor (bool: true = masked out, or float: added), got ${describe(mask)}`);
  if (mask.dtype !== 'bool' && mask.dtype !== dtype) {
    throw new Error(`Kiln: ${fn}: ${name} must be bool (true = masked out) or ${dtype} like the scores (added), got ${mask.dtype} ${shapeStr(mask.shape)}`);
  }
  const ok = mask.ndim <= target.length && mask.shape.every((d, i) => {
    const t = target[target.length - mask.ndim + i]!;
    return d === t || d === 1;
  });
  if (!ok) throw new Error(`Kiln: ${fn}: ${name} of shape ${shapeStr(mask.shape)} does not broadcast to the attention scores ${shapeStr(target)}`);
  return mask;
}

/** Applies a bool (true = masked out) or additive float mask to scores. */
function applyMask(scores: Tensor, mask: Tensor): Tensor {
  return mask.dtype === 'bool' ? where(mask, -Infinity, scores) : scores.add(mask);
}

/** A bool [L, S] mask, true above the diagonal (position i may not attend to j > i). */
export function causalMask(L: number, S = L): Tensor {
  for (const [name, v] of [['L', L], ['S', S]] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`Kiln: causalMask: ${name} must be an integer ≥ 0, got ${String(v)}`);
  }
  return ones([L, S], { dtype: 'int32' }).triu(1 + S - L).ne(0);
}

/** PyTorch's `Transformer.generate_square_subsequent_mask`: float [T, T], −∞ above the diagonal, 0 elsewhere. */
export function generateSquareSubsequentMask(T: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  return where(causalMask(T), -Infinity, zeros([T, T], { dtype }));
}

export interface ScaledDotProductAttentionOptions {
  /** Bool (true = masked out) or float (added) mask broadcasting to [..., L, S]. */
  mask?: Tensor | null;
  /** Mask out keys after each query (query i sees keys ≤ i + S − L). */
  causal?: boolean;
  /** Dropout probability on the attention weights (applied only when `training`). */
  dropout?: number;
  training?: boolean;
  generator?: Generator;
  /** Multiplier of Q·Kᵀ (default 1/√d_k). */
  scale?: number;
}

/**
 * q [..., L, D], k [..., S, D], v [..., S, Dv] → [output [..., L, Dv], weights [..., L, S]].
 * Leading dims broadcast (batch, heads).
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: ScaledDotProductAttentionOptions = {}): [Tensor, Tensor] {
  const fn = 'scaledDotProductAttention';
  checkOptions(fn, options, { mask: (m) => (m === null || m instanceof Tensor ? null : 'a Tensor or null'), causal: 'boolean', dropout: 'prob', training: 'boolean', generator: generatorKind, scale: 'finite' });
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (!(t instanceof Tensor) || t.ndim < 2 || (t.dtype !== 'float32' && t.dtype !== 'float64')) {
      throw new Error(`Kiln: ${fn}: ${name} must be a float tensor of rank ≥ 2 ([..., length, dim]), got ${describe(t)}`);
    }
  }
  const D = q.shape[q.ndim - 1]!, L = q.shape[q.ndim - 2]!, S = k.shape[k.ndim - 2]!;
  if (k.shape[k.ndim - 1] !== D) throw new Error(`Kiln: ${fn}: q ${shapeStr(q.shape)} and k ${shapeStr(k.shape)} must share the last dim`);
  if (v.shape[v.ndim - 2] !== S) throw new Error(`Kiln: ${fn}: k ${shapeStr(k.shape)} and v ${shapeStr(v.shape)} must have the same number of keys`);
  const scale = options.scale ?? 1 / Math.sqrt(D);
  let scores = q.mul(scale).matmul(k.transpose(-2, -1));
  if (options.mask) scores = applyMask(scores, checkMask(fn, 'mask', options.mask, scores.shape, scores.dtype));
  if (options.causal) scores = where(causalMask(L, S), -Infinity, scores);
  let weights = scores.softmax(-1);
  const p = options.dropout ?? 0;
  const attn = p > 0 && options.training ? dropoutOp(weights, p, true, options.generator ? { generator: options.generator } : {}) : weights;
  return [attn.matmul(v), weights];
}

/**
 * Keys and values of one attention, per head: [B, H, S, D]. The forward pass stores them with
 * `keep`, so a cache outlives a `stepScope` around each decoding step.
 */
export interface AttentionCache {
  key: Tensor | null;
  value: Tensor | null;
  /** true: keys/values are computed once (from the first call) and reused (cross-attention);
   *  false: each call's new keys/values are appended (self-attention while decoding). */
  static: boolean;
}

export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  kdim?: number;
  vdim?: number;
  /** Inputs and outputs are [B, T, E] (default false: [T, B, E], as PyTorch). */
  batchFirst?: boolean;
  dtype?: 'float32' | 'float64';
  generator?: Generator;
}

export interface MultiheadAttentionForwardOptions {
  /** `[B, S]`: bool (true = padding, ignored) or float (added). */
  keyPaddingMask?: Tensor | null;
  /** `[L, S]` or `[B·numHeads, L, S]`: bool (true = not allowed) or float (added). */
  attnMask?: Tensor | null;
  /** Return the attention weights (default true, as PyTorch). */
  needWeights?: boolean;
  /** Average the weights over heads ([B, L, S], default) or not ([B, H, L, S]). */
  averageAttnWeights?: boolean;
  /** Shorthand for a causal attnMask. */
  isCausal?: boolean;
  /** Incremental decoding: keys/values per head, read and updated in place. */
  cache?: AttentionCache;
}

const MHA_OPTIONS = { dropout: 'prob', bias: 'boolean', kdim: 'posint', vdim: 'posint', batchFirst: 'boolean', dtype: ['float32', 'float64'], generator: generatorKind } as const;
const MHA_FORWARD = {
  keyPaddingMask: (m: unknown) => (m === null || m instanceof Tensor ? null : 'a Tensor or null'),
  attnMask: (m: unknown) => (m === null || m instanceof Tensor ? null : 'a Tensor or null'),
  needWeights: 'boolean', averageAttnWeights: 'boolean', isCausal: 'boolean', cache: 'object',
} as const;

export class MultiheadAttention extends Module {
  in_proj_weight: Tensor | null = null;
  q_proj_weight: Tensor | null = null;
  k_proj_weight: Tensor | null = null;
  v_proj_weight: Tensor | null = null;
  in_proj_bias: Tensor | null;
  out_proj: Linear;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly generator: Generator | undefined;
  /**
   * When true, each forward keeps its per-head weights [B, H, L, S] (detached) in `lastWeights`,
   * for plots; stored with `keep`, so they stay readable after a step scope (`fit`'s steps).
   */
  storeWeights = false;
  lastWeights: Tensor | null = null;

  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    checkOptions('MultiheadAttention', options, MHA_OPTIONS);
    for (const [name, v] of [['embedDim', embedDim], ['numHeads', numHeads]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Kiln: MultiheadAttention: ${name} must be a positive integer, got ${String(v)}`);
    }
    if (embedDim % numHeads !== 0) {
      throw new Error(`Kiln: MultiheadAttention: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    }
    this.headDim = embedDim / numHeads;
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    this.dropout = options.dropout ?? 0;
    this.batchFirst = options.batchFirst ?? false;
    this.generator = options.generator;
    const dtype = options.dtype ?? 'float32';
    const g = options.generator;
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.in_proj_weight = parameter(xavierUniform_(zeros([3 * embedDim, embedDim], { dtype }), 1, g));
    } else {
      this.q_proj_weight = parameter(xavierUniform_(zeros([embedDim, embedDim], { dtype }), 1, g));
      this.k_proj_weight = parameter(xavierUniform_(zeros([embedDim, this.kdim], { dtype }), 1, g));
      this.v_proj_weight = parameter(xavierUniform_(zeros([embedDim, this.vdim], { dtype }), 1, g));
    }
    const bias = options.bias ?? true;
    this.in_proj_bias = bias ? parameter(zeros([3 * embedDim], { dtype })) : null;
    this.out_proj = new Linear(embedDim, embedDim, { bias, dtype });
    if (g) xavierUniform_(this.out_proj.weight, 1, g);
    if (this.out_proj.bias) this.out_proj.bias.dataSync().fill(0);
  }

  /**
   * Weight and bias of projection i (0 query, 1 key, 2 value). The query's carry the scores'
   * 1/√headDim, so the scaling is one multiply over E×(E+1) numbers instead of a pass over the
   * projected queries or the scores.
   */
  private projParams(i: 0 | 1 | 2): [Tensor, Tensor | null] {
    const E = this.embedDim;
    let w = this.in_proj_weight ? this.in_proj_weight.slice(0, i * E, (i + 1) * E) : [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight][i]!;
    let b = this.in_proj_bias ? this.in_proj_bias.slice(0, i * E, (i + 1) * E) : null;
    if (i === 0) {
      const scale = 1 / Math.sqrt(this.headDim);
      w = w.mul(scale);
      b = b && b.mul(scale);
    }
    return [w, b];
  }

  /**
   * Projects x (any leading dims: one GEMM over all rows) and splits the heads:
   * [B, T, E] (or [T, B, E] when `seqFirst`) → [B, H, T, D], or [B, H, D, T] when `transposed`
   * (keys, ready for Q·Kᵀ) — one copy. While the ONNX exporter traces (x is then batch first),
   * heads are sliced along the feature axis instead (same numbers), so the exported graph has no
   * Reshape baked to one sequence length.
   */
  private heads(i: 0 | 1 | 2, x: Tensor, seqFirst: boolean, transposed: boolean): Tensor {
    const [w, b] = this.projParams(i);
    const y = linear(x, w, b);
    const H = this.numHeads, D = this.headDim;
    if (isTracing()) {
      const h = cat(Array.from({ length: H }, (_, j) => y.slice(2, j * D, (j + 1) * D).unsqueeze(1)), 1);
      return transposed ? h.transpose(-2, -1) : h;
    }
    const y4 = y.reshape([y.shape[0]!, y.shape[1]!, H, D]);
    if (seqFirst) return y4.permute(transposed ? [1, 2, 3, 0] : [1, 2, 0, 3]);
    return y4.permute(transposed ? [0, 2, 3, 1] : [0, 2, 1, 3]);
  }

  /** `[B, H, L, D]` → `[B, L, E]` (or `[L, B, E]` when `seqFirst`), one copy. */
  private mergeHeads(x: Tensor, seqFirst: boolean): Tensor {
    const H = this.numHeads;
    if (isTracing()) return cat(Array.from({ length: H }, (_, h) => x.slice(1, h, h + 1).squeeze(1)), 2);
    const [B, , L] = x.shape as [number, number, number, number];
    return seqFirst ? x.permute(2, 0, 1, 3).reshape([L, B, this.embedDim]) : x.permute(0, 2, 1, 3).reshape([B, L, this.embedDim]);
  }

  /**
   * query [L, B, E] (or [B, L, E] with batchFirst, or unbatched [L, E]), key [S, B, kdim],
   * value [S, B, vdim] → [output like query, weights [B, L, S] (or [B, H, L, S]) | null].
   *
   * Inputs stay in their layout: the projections run on it and the head split/merge permutes go
   * straight between it and [B, H, T, D] (no separate batch transposes). Keys are split directly
   * into [B, H, D, S], so Q·Kᵀ needs no transposed copy (the KV cache keeps [B, H, S, D]).
   */
  override forward(query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    const fn = 'MultiheadAttention';
    checkOptions(`${fn}.forward`, options, MHA_FORWARD);
    const E = this.embedDim, H = this.numHeads;
    if (!(query instanceof Tensor) || (query.ndim !== 2 && query.ndim !== 3) || query.shape[query.ndim - 1] !== E) {
      throw new Error(`Kiln: ${fn}: query must be ${this.batchFirst ? '[B, L, E]' : '[L, B, E]'} (or unbatched [L, E]) with E = ${E}, got ${describe(query)}`);
    }
    const unbatched = query.ndim === 2;
    // The exporter's tracer sees batch-first tensors (its head split slices along dim 2).
    const tracing = isTracing();
    const seqFirst = !unbatched && !this.batchFirst && !tracing;
    const toLayout = (t: Tensor): Tensor => (unbatched ? t.unsqueeze(0) : !this.batchFirst && tracing ? t.transpose(0, 1) : t);
    const batchOf = (t: Tensor): number => t.shape[seqFirst ? 1 : 0]!;
    const lengthOf = (t: Tensor): number => t.shape[seqFirst ? 0 : 1]!;
    const q = toLayout(query);
    const B = batchOf(q), L = lengthOf(q);
    const cache = options.cache;
    const reuse = cache?.static === true && cache.key !== null && cache.value !== null;
    let kt: Tensor, vh: Tensor;
    if (reuse) {
      kt = cache.key!.transpose(-2, -1);
      vh = cache.value!;
    } else {
      for (const [name, t, dim] of [['key', key, this.kdim], ['value', value, this.vdim]] as const) {
        if (!(t instanceof Tensor) || t.ndim !== query.ndim || t.shape[t.ndim - 1] !== dim) {
          throw new Error(`Kiln: ${fn}: ${name} must have the query's rank (${query.ndim}) and last dim ${dim}, got ${describe(t)} (query ${shapeStr(query.shape)})`);
        }
      }
      const k = key === query ? q : toLayout(key), v = value === key ? k : toLayout(value);
      if (batchOf(k) !== B || batchOf(v) !== B || lengthOf(k) !== lengthOf(v)) {
        throw new Error(`Kiln: ${fn}: key ${shapeStr(key.shape)} and value ${shapeStr(value.shape)} must match the query's batch (${B}) and each other's length`);
      }
      vh = this.heads(2, v, seqFirst, false);
      if (cache) {
        let kh = this.heads(1, k, seqFirst, false);
        if (!cache.static && cache.key && cache.value) {
          kh = cat([cache.key, kh], 2);
          vh = cat([cache.value, vh], 2);
        }
        // Stored for the next call, not returned: kept out of the step scope this call runs in.
        cache.key = keep(kh);
        cache.value = keep(vh);
        kt = kh.transpose(-2, -1);
      } else {
        kt = this.heads(1, k, seqFirst, true);
      }
    }
    const S = kt.shape[3]!;
    const qh = this.heads(0, q, seqFirst, false);
    const scoreShape = [B, H, L, S];
    let mask: Tensor | null = null;
    if (options.attnMask) {
      let m = options.attnMask;
      if (m.ndim === 3) {
        if (m.shape[0] !== B * H) throw new Error(`Kiln: ${fn}: a 3-d attnMask must be [B·numHeads = ${B * H}, ${L}, ${S}], got ${shapeStr(m.shape)}`);
        m = m.reshape([B, H, m.shape[1]!, m.shape[2]!]);
      } else if (m.ndim !== 2) {
        throw new Error(`Kiln: ${fn}: attnMask must be [L, S] = [${L}, ${S}] or [B·numHeads, L, S], got ${shapeStr(m.shape)}`);
      }
      mask = checkMask(fn, 'attnMask', m, scoreShape, q.dtype);
    }
    if (options.isCausal) {
      const c = causalMask(L, S);
      mask = mask ? (mask.dtype === 'bool' ? mask.logicalOr(c) : where(c, -Infinity, mask)) : c;
    }
    let scoresMaskPad: Tensor | null = null;
    if (options.keyPaddingMask) {
      const kp = options.keyPaddingMask;
      const want = unbatched ? [S] : [B, S];
      if (kp.ndim !== want.length || kp.shape.some((d, i) => d !== want[i])) {
        throw new Error(`Kiln: ${fn}: keyPaddingMask must be ${shapeStr(want)} (batch, key length), got ${describe(kp)}`);
      }
      checkMask(fn, 'keyPaddingMask', kp, want, q.dtype);
      scoresMaskPad = unbatched ? kp.unsqueeze(0).unsqueeze(0).unsqueeze(0) : kp.unsqueeze(1).unsqueeze(1);
    }
    let scores = qh.matmul(kt);
    if (mask) scores = applyMask(scores, mask);
    if (scoresMaskPad) scores = applyMask(scores, scoresMaskPad);
    const weights = scores.softmax(-1);
    if (this.storeWeights) this.lastWeights = keep(weights.detach());
    const attn = this.dropout > 0 && this.training ? dropoutOp(weights, this.dropout, true, this.generator ? { generator: this.generator } : {}) : weights;
    let out = this.out_proj.forward(this.mergeHeads(attn.matmul(vh), seqFirst));
    out = unbatched ? out.squeeze(0) : !this.batchFirst && tracing ? out.transpose(0, 1) : out;
    if (options.needWeights === false) return [out, null];
    let w = options.averageAttnWeights === false ? weights : weights.mean(1);
    if (unbatched) w = w.squeeze(0);
    return [out, w];
  }

  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, dropout=${this.dropout}, batchFirst=${this.batchFirst}`;
  }
}
