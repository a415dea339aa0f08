/**
 * ONNX export of a `TransformerSeq2Seq`'s stacks, built from MatMul/Softmax/LayerNormalization
 * (no fused Attention op, so the graph runs on any execution provider, WebGPU included), with
 * symbolic batch and sequence axes and the masks as graph inputs:
 *
 *   encoder: src_embedded [B, S, E] (token embeddings·√d + positions), src_key_padding_mask
 *            bool [B, S] (true = padding)                       → memory [B, S, E]
 *   decoder: tgt_embedded [B, T, E], memory [B, S, E], tgt_mask float [T, T] (0 / −∞, added),
 *            memory_key_padding_mask bool [B, S]                → logits [B, T, V]
 *
 * The embedding lookups and positions stay outside the graphs (`embedSource`/`embedTarget`):
 * they are table lookups, and a Reshape or Slice of the positions table would bake one length
 * into the graph.
 */
import { Tensor, noGrad } from '@kiln/tensor';
import { Module } from '@kiln/nn';
import type { TransformerSeq2Seq } from './model.js';
import { generateSquareSubsequentMask } from './attention.js';

class EncoderGraph extends Module {
  constructor(readonly m: TransformerSeq2Seq) { super(); }
  override forward(x: Tensor, kpm: Tensor): Tensor {
    return this.m.encoder.forward(x, { srcKeyPaddingMask: kpm });
  }
}

class DecoderGraph extends Module {
  constructor(readonly m: TransformerSeq2Seq) { super(); }
  override forward(y: Tensor, memory: Tensor, tgtMask: Tensor, kpm: Tensor): Tensor {
    return this.m.generator.forward(this.m.decoder.forward(y, memory, { tgtMask, memoryKeyPaddingMask: kpm }));
  }
}

/** The encoder and decoder stacks as traceable modules (inputs as in the module comment). */
export function transformerGraphs(model: TransformerSeq2Seq): { encoder: Module; decoder: Module } {
  return { encoder: new EncoderGraph(model).eval(), decoder: new DecoderGraph(model).eval() };
}

export const ENCODER_IO = {
  inputNames: ['src_embedded', 'src_key_padding_mask'],
  outputNames: ['memory'],
  dynamicAxes: { src_embedded: { 0: 'batch', 1: 'src_len' }, src_key_padding_mask: { 0: 'batch', 1: 'src_len' }, memory: { 0: 'batch', 1: 'src_len' } },
};

export const DECODER_IO = {
  inputNames: ['tgt_embedded', 'memory', 'tgt_mask', 'memory_key_padding_mask'],
  outputNames: ['logits'],
  dynamicAxes: {
    tgt_embedded: { 0: 'batch', 1: 'tgt_len' }, memory: { 0: 'batch', 1: 'src_len' }, tgt_mask: { 0: 'tgt_len', 1: 'tgt_len_k' },
    memory_key_padding_mask: { 0: 'batch', 1: 'src_len' }, logits: { 0: 'batch', 1: 'tgt_len' },
  },
};

/** Source tokens [B, S] → the encoder graph's inputs. */
export function encoderInputs(model: TransformerSeq2Seq, src: Tensor): { src_embedded: Tensor; src_key_padding_mask: Tensor } {
  return noGrad(() => ({
    src_embedded: model.pos.forward(model.src_embed.forward(src).mul(Math.sqrt(model.dModel))),
    src_key_padding_mask: model.srcPaddingMask(src) ?? src.ne(src),
  }));
}

/** Target prefix tokens [B, T] → the decoder graph's tgt_embedded and tgt_mask. */
export function decoderInputs(model: TransformerSeq2Seq, tgtIn: Tensor): { tgt_embedded: Tensor; tgt_mask: Tensor } {
  return noGrad(() => ({
    tgt_embedded: model.pos.forward(model.tgt_embed.forward(tgtIn).mul(Math.sqrt(model.dModel))),
    tgt_mask: generateSquareSubsequentMask(tgtIn.shape[1]!, model.generator.weight.dtype as 'float32'),
  }));
}
