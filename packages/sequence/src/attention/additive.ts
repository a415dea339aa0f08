/**
 * Additive (Bahdanau) attention, course 5.3.1.3. For a decoder state s⟨t−1⟩ (the query) and the
 * encoder's activations a⟨t′⟩ (the keys, which are also the values):
 *
 *   e⟨t,t′⟩ = vᵀ·tanh(W_s·s⟨t−1⟩ + W_a·a⟨t′⟩ + b)      (a one-hidden-layer network over both)
 *   α⟨t,t′⟩ = exp(e⟨t,t′⟩) / Σ_t″ exp(e⟨t,t″⟩)          (softmax over the source positions)
 *   c⟨t⟩   = Σ_t′ α⟨t,t′⟩·a⟨t′⟩                         (the context vector)
 *
 * Positions past a sequence's length (padding) get α = 0. W_a·a⟨t′⟩ does not depend on t, so a
 * decoder computes it once per source with `projectKeys` and passes it to every step.
 * Parameter names: `query_proj.weight` (W_s), `key_proj.weight`/`key_proj.bias` (W_a, b),
 * `energy.weight` (vᵀ).
 */
import { Tensor, checkOptions, type Generator } from '@kiln/tensor';
import { Linear, Module, uniform_ } from '@kiln/nn';
import { lengthsMask } from '../utils/pad.js';
import { generatorKind } from '../utils/options.js';

export interface AdditiveAttentionOptions {
  dtype?: 'float32' | 'float64';
  /** Generator for the initial weights (default: the global one). */
  generator?: Generator;
}

export interface AttentionForwardOptions {
  /** Each sequence's length (positions ≥ length are padding and get zero weight). */
  lengths?: ArrayLike<number>;
  /** `projectKeys(keys)`, computed once per source (default: computed here). */
  projectedKeys?: Tensor;
}

export class AdditiveAttention extends Module {
  query_proj: Linear;
  key_proj: Linear;
  energy: Linear;

  constructor(readonly querySize: number, readonly keySize: number, readonly hiddenSize: number, options: AdditiveAttentionOptions = {}) {
    super();
    checkOptions('AdditiveAttention', options, { dtype: ['float32', 'float64'], generator: generatorKind });
    for (const [name, v] of [['querySize', querySize], ['keySize', keySize], ['hiddenSize', hiddenSize]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Kiln: AdditiveAttention: ${name} must be a positive integer, got ${String(v)}`);
    }
    const dtype = options.dtype ?? 'float32';
    this.query_proj = new Linear(querySize, hiddenSize, { bias: false, dtype });
    this.key_proj = new Linear(keySize, hiddenSize, { dtype });
    this.energy = new Linear(hiddenSize, 1, { bias: false, dtype });
    if (options.generator) {
      for (const [name, p] of this.namedParameters()) {
        const fanIn = name.startsWith('query') ? querySize : name.startsWith('key') ? keySize : hiddenSize;
        uniform_(p, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), options.generator);
      }
    }
  }

  /** W_a·a⟨t′⟩ + b for keys `[B, T, keySize]` → `[B, T, hiddenSize]`. */
  projectKeys(keys: Tensor): Tensor {
    this.checkKeys(keys);
    return this.key_proj.forward(keys);
  }

  /**
   * Query `[B, querySize]`, keys `[B, T, keySize]` → `[context [B, keySize], weights [B, T]]`.
   */
  override forward(query: Tensor, keys: Tensor, options: AttentionForwardOptions = {}): [Tensor, Tensor] {
    checkOptions('AdditiveAttention.forward', options, { lengths: (v) => (Array.isArray(v) || ArrayBuffer.isView(v) ? null : 'an array of lengths'), projectedKeys: 'object' });
    const [B, T] = this.checkKeys(keys);
    if (!(query instanceof Tensor) || query.ndim !== 2 || query.shape[0] !== B || query.shape[1] !== this.querySize) {
      throw new Error(`Kiln: AdditiveAttention: query must be [${B}, ${this.querySize}] for keys [${keys.shape.join(',')}], got ${query instanceof Tensor ? `[${query.shape.join(',')}]` : typeof query}`);
    }
    const proj = options.projectedKeys ?? this.key_proj.forward(keys);
    if (proj.ndim !== 3 || proj.shape[0] !== B || proj.shape[1] !== T || proj.shape[2] !== this.hiddenSize) {
      throw new Error(`Kiln: AdditiveAttention: projectedKeys must be [${B}, ${T}, ${this.hiddenSize}], got [${proj.shape.join(',')}]`);
    }
    const hidden = proj.add(this.query_proj.forward(query).unsqueeze(1)).tanh(); // [B, T, H]
    let e = this.energy.forward(hidden).squeeze(2); // [B, T]
    if (options.lengths) e = e.where(paddingMask('AdditiveAttention', options.lengths, B, T), -Infinity);
    const weights = e.softmax(1);
    const context = weights.unsqueeze(1).matmul(keys).squeeze(1); // [B, keySize]
    return [context, weights];
  }

  private checkKeys(keys: Tensor): [number, number] {
    if (!(keys instanceof Tensor) || keys.ndim !== 3 || keys.shape[2] !== this.keySize) {
      throw new Error(`Kiln: AdditiveAttention: keys must be [B, T, ${this.keySize}], got ${keys instanceof Tensor ? `[${keys.shape.join(',')}]` : typeof keys}`);
    }
    return [keys.shape[0]!, keys.shape[1]!];
  }

  override extraRepr(): string {
    return `querySize=${this.querySize}, keySize=${this.keySize}, hiddenSize=${this.hiddenSize}`;
  }
}

/** A bool `[B, T]` mask, true where position t < lengths[b] (lengths checked, named after `op`). */
function paddingMask(op: string, lengths: ArrayLike<number>, B: number, T: number): Tensor {
  if (lengths.length !== B) throw new Error(`Kiln: ${op}: lengths has ${lengths.length} entries for a batch of ${B}`);
  Array.from(lengths).forEach((v, b) => {
    if (!Number.isInteger(v) || v < 1 || v > T) throw new Error(`Kiln: ${op}: lengths[${b}] = ${v} must be in 1..${T}`);
  });
  return lengthsMask(lengths, T, { batchFirst: true }).gt(0);
}
