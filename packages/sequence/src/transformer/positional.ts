/**
 * Positional encodings (course 5.4). Sinusoidal, exactly as in the course:
 *
 *   PE(pos, 2i)   = sin(pos / 10000^(2i/d))
 *   PE(pos, 2i+1) = cos(pos / 10000^(2i/d))
 *
 * (sin on even dimensions, cos on odd ones; the pair 2i, 2i+1 shares one frequency), and learned
 * positions (an embedding row per position). Both add to [B, T, E] inputs (batchFirst) or
 * [T, B, E], starting at position `offset` (incremental decoding).
 */
import { Tensor, checkOptions, zeros, type Generator } from '@kiln/tensor';
import { Dropout, Module, normal_, parameter } from '@kiln/nn';
import { checkCount, generatorKind } from '../utils/options.js';

/** The [maxLen, dModel] table of sinusoidal encodings. */
export function sinusoidalPositionalEncoding(maxLen: number, dModel: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  checkCount('sinusoidalPositionalEncoding', 'maxLen', maxLen);
  checkCount('sinusoidalPositionalEncoding', 'dModel', dModel);
  const pe = zeros([maxLen, dModel], { dtype });
  const d = pe.dataSync();
  for (let pos = 0; pos < maxLen; pos++) {
    for (let j = 0; j < dModel; j++) {
      const i = Math.floor(j / 2);
      const angle = pos / Math.pow(10000, (2 * i) / dModel);
      d[pos * dModel + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return pe;
}

export interface PositionalEncodingOptions {
  maxLen?: number;
  dropout?: number;
  batchFirst?: boolean;
  dtype?: 'float32' | 'float64';
  generator?: Generator;
}

const PE_SPEC = { maxLen: 'posint', dropout: 'prob', batchFirst: 'boolean', dtype: ['float32', 'float64'], generator: generatorKind } as const;

abstract class PositionsBase extends Module {
  dropout: Dropout;
  readonly maxLen: number;
  readonly batchFirst: boolean;

  constructor(layer: string, readonly dModel: number, options: PositionalEncodingOptions) {
    super();
    checkOptions(layer, options, PE_SPEC);
    checkCount(layer, 'dModel', dModel);
    this.maxLen = options.maxLen ?? 512;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = new Dropout(options.dropout ?? 0, options.generator);
  }

  protected abstract table(): Tensor;

  /** x [B, T, E] (batchFirst) or [T, B, E] → x + PE[offset .. offset+T), then dropout. */
  override forward(x: Tensor, options: { offset?: number } = {}): Tensor {
    const layer = this.constructor.name;
    checkOptions(`${layer}.forward`, options, { offset: 'nonnegint' });
    if (!(x instanceof Tensor) || x.ndim !== 3 || x.shape[2] !== this.dModel) {
      throw new Error(`Kiln: ${layer}: input must be ${this.batchFirst ? '[B, T, E]' : '[T, B, E]'} with E = ${this.dModel}, got ${x instanceof Tensor ? `[${x.shape.join(',')}]` : typeof x}`);
    }
    const T = x.shape[this.batchFirst ? 1 : 0]!;
    const off = options.offset ?? 0;
    if (off + T > this.maxLen) throw new Error(`Kiln: ${layer}: positions ${off}..${off + T - 1} exceed maxLen ${this.maxLen}`);
    const pe = this.table().slice(0, off, off + T);
    return this.dropout.forward(x.add(this.batchFirst ? pe : pe.unsqueeze(1)));
  }

  override extraRepr(): string {
    return `dModel=${this.dModel}, maxLen=${this.maxLen}, batchFirst=${this.batchFirst}`;
  }
}

/** Adds the course's sinusoidal encodings (a buffer `pe` [maxLen, dModel]). */
export class PositionalEncoding extends PositionsBase {
  declare pe: Tensor;

  constructor(dModel: number, options: PositionalEncodingOptions = {}) {
    super('PositionalEncoding', dModel, options);
    this.registerBuffer('pe', sinusoidalPositionalEncoding(this.maxLen, dModel, options.dtype ?? 'float32'));
  }

  protected table(): Tensor {
    return this.pe;
  }
}

/** Adds learned positions (a parameter `weight` [maxLen, dModel], initialised N(0, 0.02²)). */
export class LearnedPositionalEncoding extends PositionsBase {
  weight: Tensor;

  constructor(dModel: number, options: PositionalEncodingOptions = {}) {
    super('LearnedPositionalEncoding', dModel, options);
    this.weight = parameter(zeros([this.maxLen, dModel], { dtype: options.dtype ?? 'float32' }));
    normal_(this.weight, 0, 0.02, options.generator);
  }

  protected table(): Tensor {
    return this.weight;
  }
}
