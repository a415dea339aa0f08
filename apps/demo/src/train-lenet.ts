import { Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear, crossEntropy, saveSafetensors } from '@kiln/nn';
import { Adam, LRScheduler, cosineAnnealing } from '@kiln/optim';
import { fit, type History } from '@kiln/train';
import { join } from 'node:path';
import { loaders, metrics, type MnistSplits } from './data.js';

/** LeNet-5 (ReLU and max-pooling variant): 28×28 → conv5 6ch pad 2 → pool → conv5 16ch → pool → 400 → 120 → 84 → 10. */
export function makeLeNet5(): Sequential {
  return new Sequential(
    new Conv2d(1, 6, 5, { padding: 2 }), new ReLU(), new MaxPool2d(2),
    new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
    new Flatten(),
    new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10),
  );
}

/**
 * Adam (lr 3e-3, batches of 64) with the learning rate annealed along a cosine to 2% over the
 * epochs; early stopping on dev accuracy keeps the best epoch's weights.
 */
export async function trainLeNet(data: MnistSplits, outDir: string, epochs = 12): Promise<{ model: Sequential; history: History }> {
  const model = makeLeNet5();
  const { train, dev } = loaders(data, 64, false);
  const lr = 3e-3;
  const optimizer = new Adam(model.parameters(), { lr });
  const history = await fit(model, {
    train, dev, epochs, metrics, optimizer,
    loss: (o, y) => crossEntropy(o, y),
    schedule: new LRScheduler(optimizer, cosineAnnealing(lr, epochs, lr * 0.02)),
    earlyStopping: { monitor: 'accuracy', patience: 3 },
    checkpoint: { dir: outDir, every: 4, name: 'lenet5' },
    curves: join(outDir, 'lenet5-curves'),
  });
  await saveSafetensors(join(outDir, 'lenet5.safetensors'), model.stateDict());
  return { model, history };
}
