import { noGrad, zeros, type Tensor } from '@kiln/tensor';
import { normal_ } from '../init.js';
import { Module, parameter } from '../module.js';
import { checkInput } from './check.js';
import { checkOptions, checkPositiveInt, FLOAT_DTYPE } from './options.js';

export interface EmbeddingOptions {
  /** This row is initialised to zeros and receives no gradient. */
  paddingIdx?: number;
  dtype?: 'float32' | 'float64';
}

/** A lookup table: int32 indices of any shape → their rows of `weight` [numEmbeddings, embeddingDim] (init N(0, 1)). */
export class Embedding extends Module {
  weight: Tensor;
  readonly paddingIdx: number | undefined;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    checkOptions('Embedding', options, { paddingIdx: 'int', dtype: FLOAT_DTYPE });
    checkPositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    checkPositiveInt('Embedding', 'embeddingDim', embeddingDim);
    let p = options.paddingIdx;
    if (p !== undefined) {
      if (p < 0) p += numEmbeddings;
      if (!(Number.isInteger(p) && p >= 0 && p < numEmbeddings)) throw new Error(`Kiln: Embedding: paddingIdx ${options.paddingIdx} out of range for ${numEmbeddings} embeddings`);
    }
    this.paddingIdx = p;
    this.weight = parameter(zeros([numEmbeddings, embeddingDim], { dtype: options.dtype ?? 'float32' }));
    normal_(this.weight);
    if (p !== undefined) noGrad(() => this.weight.dataSync().fill(0, p * embeddingDim, (p + 1) * embeddingDim));
  }

  override forward(indices: Tensor): Tensor {
    checkInput('Embedding', indices, indices.dtype === 'int32', `int32 indices (got ${indices.dtype})`);
    const flat = indices.reshape([-1]);
    const d = flat.dataSync();
    for (let i = 0; i < d.length; i++) {
      if (!(d[i]! >= 0 && d[i]! < this.numEmbeddings)) throw new Error(`Kiln: Embedding: index ${d[i]} out of range for ${this.numEmbeddings} embeddings`);
    }
    let w = this.weight;
    if (this.paddingIdx !== undefined && w.requiresGrad) {
      // block the padding row's gradient: rows × mask (1 everywhere but the padding row)
      const mask = zeros([this.numEmbeddings, 1], { dtype: w.dtype }).add(1);
      mask.dataSync()[this.paddingIdx] = 0;
      w = w.mul(mask).add(w.detach().mul(mask.neg().add(1)));
    }
    return w.indexSelect(0, flat).reshape([...indices.shape, this.embeddingDim]);
  }
}
