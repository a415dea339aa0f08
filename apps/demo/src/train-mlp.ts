import { Sequential, Linear, ReLU, crossEntropy, saveSafetensors } from '@kiln/nn';
import { Adam } from '@kiln/optim';
import { fit, type History } from '@kiln/train';
import { join } from 'node:path';
import { loaders, metrics, type MnistSplits } from './data.js';

/** A deep MLP 784 → 256 → 128 → 64 → 10 with ReLU, trained with Adam. */
export function makeMlp(): Sequential {
  return new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 128), new ReLU(), new Linear(128, 64), new ReLU(), new Linear(64, 10));
}

export async function trainMlp(data: MnistSplits, outDir: string, epochs = 8): Promise<{ model: Sequential; history: History }> {
  const model = makeMlp();
  const { train, dev } = loaders(data, 64, true);
  const history = await fit(model, {
    train, dev, epochs, metrics,
    loss: (o, y) => crossEntropy(o, y),
    optimizer: new Adam(model.parameters(), { lr: 1e-3 }),
    curves: join(outDir, 'mlp-curves'),
  });
  await saveSafetensors(join(outDir, 'mlp.safetensors'), model.stateDict());
  return { model, history };
}
