/**
 * A language model on ONNX Runtime: export one sampling step (ids, state → logits, state) and
 * generate from the exported graph with the same sampler as `generate`. Dev/demo code: it needs
 * @kiln/onnx and onnxruntime-node, which @kiln/sequence itself does not depend on.
 */
import { Generator, Tensor, noGrad, zeros } from '@kiln/tensor';
import { Module } from '@kiln/nn';
import { createSession, exportOnnx, runSession, type KilnSession } from '@kiln/onnx';
import { RNNLanguageModel, drawIndex, samplingProbs, type SamplingOptions } from '@kiln/sequence';

/** `forward(ids [B, T], h0 [, c0])` → `[logits, hN (, cN)]`: the LM with its state as plain inputs and outputs. */
export class LMStep extends Module {
  constructor(readonly lm: RNNLanguageModel) {
    super();
  }

  override forward(ids: Tensor, h0: Tensor, c0?: Tensor): Tensor[] {
    if (this.lm.cell === 'lstm') {
      const [logits, [h, c]] = this.lm.forwardWithState(ids, [h0, c0!]) as [Tensor, [Tensor, Tensor]];
      return [logits, h, c];
    }
    const [logits, h] = this.lm.forwardWithState(ids, h0) as [Tensor, Tensor];
    return [logits, h];
  }
}

function stateShape(lm: RNNLanguageModel, batch: number): number[] {
  return [lm.rnn.numLayers, batch, lm.rnn.hiddenSize];
}

/** ONNX bytes of one step of `lm` for `batch` sequences fed one token at a time (ids [batch, 1]). */
export function exportLMStep(lm: RNNLanguageModel, batch: number): Uint8Array {
  const lstm = lm.cell === 'lstm';
  const inputs = [new Tensor(new Int32Array(batch), [batch, 1], 'int32'), zeros(stateShape(lm, batch)), ...(lstm ? [zeros(stateShape(lm, batch))] : [])];
  return exportOnnx(new LMStep(lm), inputs, {
    opset: 17,
    inputNames: lstm ? ['ids', 'h0', 'c0'] : ['ids', 'h0'],
    outputNames: lstm ? ['logits', 'h_n', 'c_n'] : ['logits', 'h_n'],
    docString: 'one step of a Kiln RNNLanguageModel: next-token logits and the new state',
  });
}

export async function ortSession(bytes: Uint8Array): Promise<KilnSession> {
  return createSession(bytes, { backend: 'node' });
}

export interface OrtGenerateOptions extends SamplingOptions {
  n: number;
  bosId: number;
  eosId: number;
  maxLength: number;
  seed: number;
  suppress?: readonly number[];
}

/**
 * Samples from an exported step graph exactly as `generate` samples from the Kiln model (same
 * draws for the same seed), returning the ids and the largest |logit| difference seen against
 * `reference` when one is given.
 */
export async function generateWithOrt(session: KilnSession, lm: RNNLanguageModel, o: OrtGenerateOptions, reference?: RNNLanguageModel): Promise<{ ids: number[][]; maxLogitDiff: number }> {
  const lstm = lm.cell === 'lstm';
  const gen = new Generator(o.seed);
  const sampling: SamplingOptions = {};
  if (o.temperature !== undefined) sampling.temperature = o.temperature;
  if (o.topK !== undefined) sampling.topK = o.topK;
  if (o.topP !== undefined) sampling.topP = o.topP;
  const out: number[][] = Array.from({ length: o.n }, () => []);
  const done = new Array<boolean>(o.n).fill(false);
  let ids = new Int32Array(o.n).fill(o.bosId);
  let h = zeros(stateShape(lm, o.n)), c = zeros(stateShape(lm, o.n));
  let refState: unknown = null;
  let maxLogitDiff = 0;
  reference?.eval();
  for (let step = 0; step < o.maxLength; step++) {
    const feed: Record<string, Tensor> = { ids: new Tensor(ids, [o.n, 1], 'int32'), h0: h };
    if (lstm) feed.c0 = c;
    const res = await runSession(session, feed);
    const logits = res.logits!, v = logits.shape[2]!;
    const data = logits.dataSync();
    if (reference) {
      const step = new Tensor(ids, [o.n, 1], 'int32');
      const [refLogits, st] = noGrad(() => reference.forwardWithState(step, refState as never));
      refState = st;
      const r = refLogits.dataSync();
      for (let i = 0; i < r.length; i++) maxLogitDiff = Math.max(maxLogitDiff, Math.abs(r[i]! - Number(data[i])));
    }
    h = res.h_n!;
    if (lstm) c = res.c_n!;
    const next = new Int32Array(o.n);
    for (let b = 0; b < o.n; b++) {
      if (done[b]) { next[b] = o.eosId; continue; }
      const row = Float64Array.from(data.subarray(b * v, (b + 1) * v), Number);
      for (const s of o.suppress ?? []) row[s] = -Infinity;
      const id = drawIndex(samplingProbs(row, sampling), gen);
      next[b] = id;
      if (id === o.eosId) done[b] = true;
      else out[b]!.push(id);
    }
    if (done.every(Boolean)) break;
    ids = next;
  }
  return { ids: out, maxLogitDiff };
}
