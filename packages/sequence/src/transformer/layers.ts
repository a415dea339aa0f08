/**
 * Transformer encoder and decoder layers and stacks (course 5.4; "Attention is all you need"),
 * with PyTorch's structure, options and parameter names, so `torch.nn.Transformer*` state dicts
 * load unchanged:
 *
 *   post-norm (default):  x = norm1(x + SA(x));      x = norm2(x + FF(x))
 *   normFirst:            x = x + SA(norm1(x));      x = x + FF(norm2(x))
 *   FF(x) = linear2(dropout(activation(linear1(x))))
 *
 * The decoder layer adds cross-attention over the encoder's output ("memory") between the two,
 * with norm2, and its feed-forward block uses norm3. Shapes follow `batchFirst` as in PyTorch:
 * [T, B, E] by default, [B, T, E] with batchFirst.
 *
 * Incremental decoding: `TransformerDecoder.forward(tgt, memory, { cache })` with a cache from
 * `decoder.newCache()` takes only the new target positions, attends over the cached keys/values
 * of earlier positions (self-attention) and computes the memory's keys/values once
 * (cross-attention); the outputs equal a full recomputation under a causal mask.
 */
import { Tensor, checkOptions, gelu, type Generator } from '@kiln/tensor';
import { Dropout, LayerNorm, Linear, Module, ModuleList } from '@kiln/nn';
import { MultiheadAttention, generateSquareSubsequentMask, type AttentionCache } from './attention.js';
import { checkCount, generatorKind } from '../utils/options.js';

export type TransformerActivation = 'relu' | 'gelu';

export interface TransformerLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: TransformerActivation;
  layerNormEps?: number;
  batchFirst?: boolean;
  normFirst?: boolean;
  dtype?: 'float32' | 'float64';
  generator?: Generator;
}

const LAYER_SPEC = {
  dimFeedforward: 'posint', dropout: 'prob', activation: ['relu', 'gelu'], layerNormEps: 'finite', batchFirst: 'boolean',
  normFirst: 'boolean', dtype: ['float32', 'float64'], generator: generatorKind,
} as const;

const maskKind = (m: unknown): string | null => (m === null || m instanceof Tensor ? null : 'a Tensor or null');

/** The parts shared by both layer kinds: feed-forward block and settings. */
abstract class LayerBase extends Module {
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  readonly normFirst: boolean;
  readonly batchFirst: boolean;
  readonly activation: TransformerActivation;

  constructor(layer: string, readonly dModel: number, readonly nhead: number, options: TransformerLayerOptions) {
    super();
    checkOptions(layer, options, LAYER_SPEC);
    checkCount(layer, 'dModel', dModel);
    checkCount(layer, 'nhead', nhead);
    if (dModel % nhead !== 0) throw new Error(`Kiln: ${layer}: dModel (${dModel}) must be divisible by nhead (${nhead})`);
    const dtype = options.dtype ?? 'float32';
    const ff = options.dimFeedforward ?? 2048;
    const p = options.dropout ?? 0.1;
    this.normFirst = options.normFirst ?? false;
    this.batchFirst = options.batchFirst ?? false;
    this.activation = options.activation ?? 'relu';
    this.linear1 = new Linear(dModel, ff, { dtype });
    this.dropout = new Dropout(p, options.generator);
    this.linear2 = new Linear(ff, dModel, { dtype });
  }

  protected ff(x: Tensor): Tensor {
    const h = this.linear1.forward(x);
    return this.linear2.forward(this.dropout.forward(this.activation === 'relu' ? h.relu() : gelu(h)));
  }

  protected mha(dtype: 'float32' | 'float64' | undefined, p: number | undefined, g: Generator | undefined): MultiheadAttention {
    return new MultiheadAttention(this.dModel, this.nhead, { dropout: p ?? 0.1, batchFirst: this.batchFirst, dtype: dtype ?? 'float32', ...(g ? { generator: g } : {}) });
  }

  override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}, normFirst=${this.normFirst}, batchFirst=${this.batchFirst}, activation=${this.activation}`;
  }
}

export interface EncoderLayerForwardOptions {
  srcMask?: Tensor | null;
  srcKeyPaddingMask?: Tensor | null;
}

export class TransformerEncoderLayer extends LayerBase {
  self_attn: MultiheadAttention;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;

  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super('TransformerEncoderLayer', dModel, nhead, options);
    const dtype = options.dtype ?? 'float32';
    const eps = options.layerNormEps ?? 1e-5;
    this.self_attn = this.mha(dtype, options.dropout, options.generator);
    this.norm1 = new LayerNorm(dModel, { eps, dtype });
    this.norm2 = new LayerNorm(dModel, { eps, dtype });
    this.dropout1 = new Dropout(options.dropout ?? 0.1, options.generator);
    this.dropout2 = new Dropout(options.dropout ?? 0.1, options.generator);
  }

  override forward(src: Tensor, options: EncoderLayerForwardOptions = {}): Tensor {
    checkOptions('TransformerEncoderLayer.forward', options, { srcMask: maskKind, srcKeyPaddingMask: maskKind });
    const sa = (x: Tensor): Tensor => this.dropout1.forward(this.self_attn.forward(x, x, x, { attnMask: options.srcMask ?? null, keyPaddingMask: options.srcKeyPaddingMask ?? null, needWeights: false })[0]);
    let x = src;
    if (this.normFirst) {
      x = x.add(sa(this.norm1.forward(x)));
      x = x.add(this.dropout2.forward(this.ff(this.norm2.forward(x))));
    } else {
      x = this.norm1.forward(x.add(sa(x)));
      x = this.norm2.forward(x.add(this.dropout2.forward(this.ff(x))));
    }
    return x;
  }
}

export interface DecoderLayerForwardOptions {
  tgtMask?: Tensor | null;
  memoryMask?: Tensor | null;
  tgtKeyPaddingMask?: Tensor | null;
  memoryKeyPaddingMask?: Tensor | null;
  /** Shorthand for a causal tgtMask. */
  tgtIsCausal?: boolean;
}

/** Self- and cross-attention caches of one decoder layer. */
export interface DecoderLayerCache {
  self: AttentionCache;
  cross: AttentionCache;
}

const DECODER_FORWARD = { tgtMask: maskKind, memoryMask: maskKind, tgtKeyPaddingMask: maskKind, memoryKeyPaddingMask: maskKind, tgtIsCausal: 'boolean' } as const;

export class TransformerDecoderLayer extends LayerBase {
  self_attn: MultiheadAttention;
  multihead_attn: MultiheadAttention;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;

  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super('TransformerDecoderLayer', dModel, nhead, options);
    const dtype = options.dtype ?? 'float32';
    const eps = options.layerNormEps ?? 1e-5;
    this.self_attn = this.mha(dtype, options.dropout, options.generator);
    this.multihead_attn = this.mha(dtype, options.dropout, options.generator);
    this.norm1 = new LayerNorm(dModel, { eps, dtype });
    this.norm2 = new LayerNorm(dModel, { eps, dtype });
    this.norm3 = new LayerNorm(dModel, { eps, dtype });
    const p = options.dropout ?? 0.1;
    this.dropout1 = new Dropout(p, options.generator);
    this.dropout2 = new Dropout(p, options.generator);
    this.dropout3 = new Dropout(p, options.generator);
  }

  override forward(tgt: Tensor, memory: Tensor, options: DecoderLayerForwardOptions = {}, cache?: DecoderLayerCache): Tensor {
    checkOptions('TransformerDecoderLayer.forward', options, DECODER_FORWARD);
    const sa = (x: Tensor): Tensor => this.dropout1.forward(this.self_attn.forward(x, x, x, {
      attnMask: options.tgtMask ?? null, keyPaddingMask: options.tgtKeyPaddingMask ?? null, needWeights: false,
      ...(options.tgtIsCausal ? { isCausal: true } : {}), ...(cache ? { cache: cache.self } : {}),
    })[0]);
    const ca = (x: Tensor): Tensor => this.dropout2.forward(this.multihead_attn.forward(x, memory, memory, {
      attnMask: options.memoryMask ?? null, keyPaddingMask: options.memoryKeyPaddingMask ?? null, needWeights: false,
      ...(cache ? { cache: cache.cross } : {}),
    })[0]);
    let x = tgt;
    if (this.normFirst) {
      x = x.add(sa(this.norm1.forward(x)));
      x = x.add(ca(this.norm2.forward(x)));
      x = x.add(this.dropout3.forward(this.ff(this.norm3.forward(x))));
    } else {
      x = this.norm1.forward(x.add(sa(x)));
      x = this.norm2.forward(x.add(ca(x)));
      x = this.norm3.forward(x.add(this.dropout3.forward(this.ff(x))));
    }
    return x;
  }
}

/** Stacks take a factory so that each layer has its own weights (PyTorch deep-copies a layer). */
function checkFactory(stack: string, layer: unknown, numLayers: number): void {
  if (typeof layer !== 'function') {
    const name = layer instanceof Module ? layer.constructor.name : 'Layer';
    throw new Error(`Kiln: ${stack}: pass a factory () => new ${name}(...) so that each of the ${numLayers} layers has its own weights, got ${layer instanceof Module ? 'a layer instance' : typeof layer}`);
  }
}

export interface TransformerEncoderOptions {
  /** Final LayerNorm (PyTorch's `norm` argument; needed with normFirst layers). */
  norm?: LayerNorm | null;
}

export class TransformerEncoder extends Module {
  layers: ModuleList;
  norm: LayerNorm | null;
  readonly numLayers: number;

  constructor(layer: () => TransformerEncoderLayer, numLayers: number, options: TransformerEncoderOptions = {}) {
    super();
    checkOptions('TransformerEncoder', options, { norm: (v) => (v === null || v instanceof LayerNorm ? null : 'a LayerNorm or null') });
    checkFactory('TransformerEncoder', layer, numLayers);
    this.numLayers = checkCount('TransformerEncoder', 'numLayers', numLayers);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => layer()));
    this.norm = options.norm ?? null;
  }

  get layerList(): TransformerEncoderLayer[] {
    return [...this.layers.children()] as TransformerEncoderLayer[];
  }

  override forward(src: Tensor, options: { mask?: Tensor | null; srcKeyPaddingMask?: Tensor | null } = {}): Tensor {
    checkOptions('TransformerEncoder.forward', options, { mask: maskKind, srcKeyPaddingMask: maskKind });
    let x = src;
    for (const l of this.layerList) x = l.forward(x, { srcMask: options.mask ?? null, srcKeyPaddingMask: options.srcKeyPaddingMask ?? null });
    return this.norm ? this.norm.forward(x) : x;
  }
}

/** Per-layer caches of a decoder, for incremental decoding. */
export interface DecoderCache {
  layers: DecoderLayerCache[];
  /** Target positions already decoded. */
  length: number;
}

export class TransformerDecoder extends Module {
  layers: ModuleList;
  norm: LayerNorm | null;
  readonly numLayers: number;

  constructor(layer: () => TransformerDecoderLayer, numLayers: number, options: TransformerEncoderOptions = {}) {
    super();
    checkOptions('TransformerDecoder', options, { norm: (v) => (v === null || v instanceof LayerNorm ? null : 'a LayerNorm or null') });
    checkFactory('TransformerDecoder', layer, numLayers);
    this.numLayers = checkCount('TransformerDecoder', 'numLayers', numLayers);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => layer()));
    this.norm = options.norm ?? null;
  }

  get layerList(): TransformerDecoderLayer[] {
    return [...this.layers.children()] as TransformerDecoderLayer[];
  }

  /** An empty key/value cache for incremental decoding. */
  newCache(): DecoderCache {
    return { layers: this.layerList.map(() => ({ self: { key: null, value: null, static: false }, cross: { key: null, value: null, static: true } })), length: 0 };
  }

  /**
   * tgt [T, B, E] (or [B, T, E] with batchFirst layers), memory [S, B, E] → [T, B, E]. With a
   * `cache`, tgt holds only the next position(s) after `cache.length`; earlier positions are
   * read from the cache, which is updated.
   */
  override forward(tgt: Tensor, memory: Tensor, options: DecoderLayerForwardOptions & { cache?: DecoderCache } = {}): Tensor {
    const { cache, ...layerOptions } = options;
    checkOptions('TransformerDecoder.forward', layerOptions, DECODER_FORWARD);
    if (cache !== undefined && (typeof cache !== 'object' || cache === null || !Array.isArray(cache.layers) || cache.layers.length !== this.numLayers)) {
      throw new Error(`Kiln: TransformerDecoder.forward: cache must come from newCache() (${this.numLayers} layers)`);
    }
    let x = tgt;
    this.layerList.forEach((l, i) => { x = l.forward(x, memory, layerOptions, cache?.layers[i]); });
    if (cache) cache.length += tgt.shape[this.layerList[0]!.batchFirst ? 1 : 0]!;
    return this.norm ? this.norm.forward(x) : x;
  }
}

export interface TransformerOptions extends TransformerLayerOptions {
  dModel?: number;
  nhead?: number;
  numEncoderLayers?: number;
  numDecoderLayers?: number;
}

export interface TransformerForwardOptions {
  srcMask?: Tensor | null;
  tgtMask?: Tensor | null;
  memoryMask?: Tensor | null;
  srcKeyPaddingMask?: Tensor | null;
  tgtKeyPaddingMask?: Tensor | null;
  memoryKeyPaddingMask?: Tensor | null;
}

/** PyTorch's `nn.Transformer`: encoder and decoder stacks, each with a final LayerNorm. */
export class Transformer extends Module {
  encoder: TransformerEncoder;
  decoder: TransformerDecoder;
  readonly dModel: number;
  readonly nhead: number;
  readonly batchFirst: boolean;

  constructor(options: TransformerOptions = {}) {
    super();
    const { dModel = 512, nhead = 8, numEncoderLayers = 6, numDecoderLayers = 6, ...layer } = options;
    checkOptions('Transformer', layer, LAYER_SPEC);
    this.dModel = dModel;
    this.nhead = nhead;
    this.batchFirst = layer.batchFirst ?? false;
    const eps = layer.layerNormEps ?? 1e-5;
    const dtype = layer.dtype ?? 'float32';
    this.encoder = new TransformerEncoder(() => new TransformerEncoderLayer(dModel, nhead, layer), numEncoderLayers, { norm: new LayerNorm(dModel, { eps, dtype }) });
    this.decoder = new TransformerDecoder(() => new TransformerDecoderLayer(dModel, nhead, layer), numDecoderLayers, { norm: new LayerNorm(dModel, { eps, dtype }) });
  }

  override forward(src: Tensor, tgt: Tensor, options: TransformerForwardOptions = {}): Tensor {
    checkOptions('Transformer.forward', options, { srcMask: maskKind, tgtMask: maskKind, memoryMask: maskKind, srcKeyPaddingMask: maskKind, tgtKeyPaddingMask: maskKind, memoryKeyPaddingMask: maskKind });
    const bDim = this.batchFirst ? 0 : 1;
    if (src.ndim === 3 && tgt.ndim === 3 && src.shape[bDim] !== tgt.shape[bDim]) {
      throw new Error(`Kiln: Transformer: src [${src.shape.join(',')}] and tgt [${tgt.shape.join(',')}] must have the same batch size`);
    }
    const memory = this.encoder.forward(src, { mask: options.srcMask ?? null, srcKeyPaddingMask: options.srcKeyPaddingMask ?? null });
    return this.decoder.forward(tgt, memory, {
      tgtMask: options.tgtMask ?? null, memoryMask: options.memoryMask ?? null,
      tgtKeyPaddingMask: options.tgtKeyPaddingMask ?? null, memoryKeyPaddingMask: options.memoryKeyPaddingMask ?? null,
    });
  }

  static generateSquareSubsequentMask(T: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
    return generateSquareSubsequentMask(T, dtype);
  }
}
