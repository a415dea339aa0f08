/**
 * replaceHead: swaps a zoo model's final classifier layer for a fresh Linear with `numClasses`
 * outputs (transfer learning). The new layer sits under the same state-dict key (`fc`,
 * `classifier.6`, `classifier.1`, ...), is trainable and starts from PyTorch's Linear init;
 * GoogLeNet's auxiliary heads (if built) get new final layers too.
 */
import { Linear, Module, Sequential } from '@kiln/nn';
import { AlexNet } from '../models/alexnet.js';
import { EfficientNet } from '../models/efficientnet.js';
import { GoogLeNet } from '../models/googlenet.js';
import { LeNet5 } from '../models/lenet.js';
import { MobileNetV1 } from '../models/mobilenet-v1.js';
import { MobileNetV2 } from '../models/mobilenet-v2.js';
import { ResNet } from '../models/resnet.js';
import { VGG } from '../models/vgg.js';

function fresh(old: unknown, numClasses: number, where: string): Linear {
  if (!(old instanceof Linear)) throw new Error(`Kiln: replaceHead: expected a Linear at '${where}', found ${old instanceof Module ? old.constructor.name : String(old)}`);
  const head = new Linear(old.inFeatures, numClasses, { bias: old.bias !== null, dtype: old.weight.dtype === 'float64' ? 'float64' : 'float32' });
  head.training = old.training;
  return head;
}

/** Replaces the last entry of a Sequential classifier. */
function replaceLast(seq: Sequential, numClasses: number, where: string): Linear {
  const key = String(seq.length - 1);
  const rec = seq as unknown as Record<string, unknown>;
  const head = fresh(rec[key], numClasses, `${where}.${key}`);
  rec[key] = head;
  return head;
}

/**
 * Gives `model` a new `numClasses`-way output layer and returns it. Supports every zoo family
 * (LeNet5, AlexNet, VGG, ResNet, GoogLeNet, MobileNetV1/V2, EfficientNet).
 */
export function replaceHead(model: Module, numClasses: number): Linear {
  if (!(Number.isInteger(numClasses) && numClasses > 0)) {
    throw new Error(`Kiln: replaceHead: numClasses must be a positive integer, got ${String(numClasses)}`);
  }
  if (model instanceof ResNet) {
    model.fc = fresh(model.fc, numClasses, 'fc');
    return model.fc;
  }
  if (model instanceof GoogLeNet) {
    model.fc = fresh(model.fc, numClasses, 'fc');
    for (const [k, aux] of [['aux1', model.aux1], ['aux2', model.aux2]] as const) if (aux) aux.fc2 = fresh(aux.fc2, numClasses, `${k}.fc2`);
    return model.fc;
  }
  if (model instanceof VGG || model instanceof AlexNet || model instanceof MobileNetV1 || model instanceof MobileNetV2
    || model instanceof EfficientNet || model instanceof LeNet5) {
    return replaceLast(model.classifier, numClasses, 'classifier');
  }
  throw new Error(`Kiln: replaceHead: ${model.constructor.name} is not a zoo model (supported: ResNet, VGG, AlexNet, GoogLeNet, MobileNetV1, MobileNetV2, EfficientNet, LeNet5)`);
}
