// The models of the bench's training workloads (README.md, "Workloads"), built from Kiln's public
// API; torch/torch_job.py defines the same ones in PyTorch. Separate from kiln-job.ts (which runs a
// job when imported) so that tests can build them.
import type { Tensor } from '@kiln/tensor';
import { Sequential, Linear, ReLU, Conv2d, MaxPool2d, Flatten, Embedding, Module } from '@kiln/nn';

/** The anchors' MLP 784-256-128-10 with ReLU. */
export function mlp(): Module {
  return new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 128), new ReLU(), new Linear(128, 10));
}

/** LeNet-5 as the anchors define it: NCHW 1×28×28 input, padding 2 on the first conv. */
export function lenet5(): Module {
  return new Sequential(
    new Conv2d(1, 6, 5, { padding: 2 }), new ReLU(), new MaxPool2d(2),
    new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
    new Flatten(),
    new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
  );
}

/** The anchors' LSTM language model: Embedding(64, 64) → LSTM(64 → 256, batch first) → Linear(256 → 64) per step. */
export class LstmLm extends Module {
  readonly embed = new Embedding(64, 64);
  readonly head = new Linear(256, 64);
  constructor(readonly rnn: Module) {
    super();
  }
  override forward(tokens: Tensor): Tensor {
    const [h] = this.rnn.forward(this.embed.forward(tokens)) as unknown as [Tensor, unknown];
    return this.head.forward(h);
  }
}

/** @kiln/sequence's LSTM (loaded lazily: the other workloads do not need the package). */
export async function lstmLm(): Promise<Module> {
  const seq = (await import('@kiln/sequence')) as unknown as Record<string, unknown>;
  const LSTM = seq.LSTM as (new (input: number, hidden: number, options: { batchFirst: boolean }) => Module) | undefined;
  if (typeof LSTM !== 'function') throw new Error('Kiln bench: lstm: @kiln/sequence has no LSTM layer yet');
  return new LstmLm(new LSTM(64, 256, { batchFirst: true }));
}

/**
 * Token tagging with a Transformer encoder (README.md, "Workloads"): Embedding(64, 128) + the
 * sinusoidal positions → 2 × TransformerEncoderLayer(d_model 128, 4 heads, feed-forward 512, ReLU,
 * post-norm, dropout 0, batch first) → Linear(128 → 64) at every position.
 */
export class TransformerTagger extends Module {
  readonly embed = new Embedding(64, 128);
  readonly head = new Linear(128, 64);
  constructor(readonly pos: Module, readonly encoder: Module) {
    super();
  }
  override forward(tokens: Tensor): Tensor {
    const x = this.pos.forward(this.embed.forward(tokens)) as Tensor;
    return this.head.forward(this.encoder.forward(x) as Tensor);
  }
}

/** @kiln/sequence's Transformer encoder (loaded lazily, as the LSTM). */
export async function transformerTagger(): Promise<Module> {
  const { PositionalEncoding, TransformerEncoder, TransformerEncoderLayer } = await import('@kiln/sequence');
  const layer = { dimFeedforward: 512, dropout: 0, activation: 'relu', batchFirst: true } as const;
  return new TransformerTagger(
    new PositionalEncoding(128, { maxLen: 64, batchFirst: true }),
    new TransformerEncoder(() => new TransformerEncoderLayer(128, 4, layer), 2),
  );
}

/** Trainable parameters (what torch_job.py reports as `sum(p.numel() for p in model.parameters())`). */
export const paramCount = (m: Module): number => m.parameters().reduce((n, p) => n + p.numel(), 0);
