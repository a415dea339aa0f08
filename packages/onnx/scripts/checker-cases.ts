/**
 * Every exportable layer and zoo model, as the ONNX checker run sees them (scripts/check-exports.sh).
 * Zoo models use their smallest valid input and, for VGG/AlexNet, a narrow classifier (same graph
 * structure, small files).
 */
import { manualSeed, randint, randn, type Tensor } from '@kiln/tensor';
import * as nn from '@kiln/nn';
import * as seq from '@kiln/sequence';
import * as zoo from '@kiln/vision';
import type { ExportOptions, Exportable } from '../src/export/export.js';

export interface CheckerCase { name: string; layer: string; make: () => Exportable; input: () => Tensor | Tensor[]; options?: ExportOptions }

const L = (name: string, layer: string, make: () => Exportable, shape: number[], options?: ExportOptions): CheckerCase =>
  ({ name, layer, make, input: () => randn(shape), options });

export function checkerCases(): CheckerCase[] {
  manualSeed(11);
  const img = (m: { _minSize?: number }, c: number, size: number) => randn([1, c, Math.max(size, m._minSize ?? size), Math.max(size, m._minSize ?? size)]);
  const Z = (name: string, make: () => Exportable & { _minSize?: number }, c = 3, size = 32): CheckerCase => {
    let built: (Exportable & { _minSize?: number }) | null = null;
    return { name: `zoo ${name}`, layer: name, make: () => (built ??= make()), input: () => img(built ??= make(), c, size) };
  };
  return [
    L('Linear', 'Linear', () => new nn.Linear(6, 4), [2, 6], { dynamicAxes: true }),
    L('Conv1d', 'Conv1d', () => new nn.Conv1d(3, 4, 3, { padding: 1 }), [2, 3, 9]),
    L('Conv2d stride dilation groups', 'Conv2d', () => new nn.Conv2d(4, 4, 3, { stride: 2, dilation: 2, groups: 2 }), [2, 4, 11, 11]),
    L('Conv2d same', 'Conv2d', () => new nn.Conv2d(3, 4, 4, { padding: 'same' }), [1, 3, 8, 8]),
    L('Conv3d', 'Conv3d', () => new nn.Conv3d(2, 3, 3, { padding: 1 }), [1, 2, 5, 5, 5]),
    L('ConvTranspose1d', 'ConvTranspose1d', () => new nn.ConvTranspose1d(3, 2, 3, { stride: 2 }), [1, 3, 6]),
    L('ConvTranspose2d', 'ConvTranspose2d', () => new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }), [1, 3, 5, 5]),
    L('ConvTranspose3d', 'ConvTranspose3d', () => new nn.ConvTranspose3d(2, 2, 2, { stride: 2 }), [1, 2, 3, 3, 3]),
    L('BatchNorm1d', 'BatchNorm1d', () => new nn.BatchNorm1d(5), [3, 5], { dynamicAxes: true }),
    L('BatchNorm2d', 'BatchNorm2d', () => new nn.BatchNorm2d(3), [2, 3, 4, 4], { dynamicAxes: true }),
    L('BatchNorm3d', 'BatchNorm3d', () => new nn.BatchNorm3d(2), [1, 2, 3, 3, 3]),
    L('GroupNorm', 'GroupNorm', () => new nn.GroupNorm(2, 4), [2, 4, 3, 3]),
    L('LayerNorm', 'LayerNorm', () => new nn.LayerNorm(6), [2, 3, 6]),
    L('LocalResponseNorm', 'LocalResponseNorm', () => new nn.LocalResponseNorm(3), [1, 5, 4, 4]),
    L('MaxPool1d', 'MaxPool1d', () => new nn.MaxPool1d(2), [1, 2, 8]),
    L('MaxPool2d ceil', 'MaxPool2d', () => new nn.MaxPool2d(3, { stride: 2, ceilMode: true }), [1, 2, 8, 8]),
    L('MaxPool3d', 'MaxPool3d', () => new nn.MaxPool3d(2), [1, 2, 4, 4, 4]),
    L('AvgPool1d', 'AvgPool1d', () => new nn.AvgPool1d(2), [1, 2, 8]),
    L('AvgPool2d pad', 'AvgPool2d', () => new nn.AvgPool2d(3, { stride: 2, padding: 1 }), [1, 2, 8, 8]),
    L('AvgPool3d', 'AvgPool3d', () => new nn.AvgPool3d(2), [1, 2, 4, 4, 4]),
    L('AdaptiveAvgPool1d', 'AdaptiveAvgPool1d', () => new nn.AdaptiveAvgPool1d(3), [1, 2, 9]),
    L('AdaptiveAvgPool2d', 'AdaptiveAvgPool2d', () => new nn.AdaptiveAvgPool2d(2), [1, 2, 8, 8]),
    L('AdaptiveAvgPool3d', 'AdaptiveAvgPool3d', () => new nn.AdaptiveAvgPool3d(1), [1, 2, 4, 4, 4]),
    L('AdaptiveMaxPool1d', 'AdaptiveMaxPool1d', () => new nn.AdaptiveMaxPool1d(2), [1, 2, 8]),
    L('AdaptiveMaxPool2d', 'AdaptiveMaxPool2d', () => new nn.AdaptiveMaxPool2d(2), [1, 2, 8, 8]),
    L('AdaptiveMaxPool3d', 'AdaptiveMaxPool3d', () => new nn.AdaptiveMaxPool3d(2), [1, 2, 4, 4, 4]),
    L('Upsample nearest', 'Upsample', () => new nn.Upsample({ scaleFactor: 2 }), [1, 2, 3, 3]),
    L('Upsample bilinear', 'Upsample', () => new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }), [1, 2, 3, 3]),
    L('ZeroPad2d', 'ZeroPad2d', () => new nn.ZeroPad2d([1, 2, 0, 1]), [1, 2, 3, 3]),
    ...(['ReLU', 'ReLU6', 'Sigmoid', 'Tanh', 'ELU', 'GELU', 'SiLU', 'Hardsigmoid', 'Hardswish', 'Identity', 'Flatten'] as const)
      .map((n) => L(n, n, () => new (nn as unknown as Record<string, new () => nn.Module>)[n]!(), [2, 3, 4], { dynamicAxes: true })),
    L('LeakyReLU', 'LeakyReLU', () => new nn.LeakyReLU(0.2), [2, 6]),
    L('Softmax', 'Softmax', () => new nn.Softmax(1), [2, 6]),
    L('LogSoftmax', 'LogSoftmax', () => new nn.LogSoftmax(1), [2, 6]),
    L('Dropout (eval)', 'Dropout', () => new nn.Dropout(0.5), [2, 6]),
    L('Dropout2d (eval)', 'Dropout2d', () => new nn.Dropout2d(0.5), [1, 2, 3, 3]),
    L('StochasticDepth (eval)', 'StochasticDepth', () => new nn.StochasticDepth(0.2, 'row'), [2, 3, 4, 4]),
    { name: 'Embedding', layer: 'Embedding', make: () => new nn.Embedding(10, 4), input: () => randint(0, 10, [2, 5]) },
    L('RNN', 'RNN', () => new seq.RNN(4, 5), [6, 2, 4]),
    L('GRU bidirectional', 'GRU', () => new seq.GRU(4, 5, { bidirectional: true }), [6, 2, 4]),
    L('LSTM 2 layers batchFirst', 'LSTM', () => new seq.LSTM(4, 5, { numLayers: 2, batchFirst: true }), [2, 6, 4]),
    L('Sequential MLP opset 17', 'Sequential', () => new nn.Sequential(new nn.Linear(5, 8), new nn.ReLU(), new nn.Linear(8, 3)), [2, 5], { opset: 17 }),
    Z('lenet5', () => zoo.lenet5(), 1),
    // 224×224 so the adaptive pool before the classifier is the identity (a 1×1 map cannot be spread
    // to 7×7 by ONNX AveragePool); narrow widths keep it cheap.
    Z('alexnet', () => zoo.alexnet({ numClasses: 10, hidden: 64, widthDivisor: 8 }), 3, 224),
    Z('vgg11', () => zoo.vgg11({ numClasses: 10, hidden: 64, widthDivisor: 8 }), 3, 224),
    Z('vgg16', () => zoo.vgg16({ numClasses: 10, hidden: 64, widthDivisor: 8 }), 3, 224),
    Z('vgg16Bn', () => zoo.vgg16Bn({ numClasses: 10, hidden: 64, widthDivisor: 8 }), 3, 224),
    Z('resnet18', () => zoo.resnet18({ numClasses: 10 })),
    Z('resnet34', () => zoo.resnet34({ numClasses: 10 })),
    Z('resnet50', () => zoo.resnet50({ numClasses: 10 })),
    Z('googlenet', () => zoo.googlenet({ numClasses: 10 })),
    Z('mobilenetV1', () => zoo.mobilenetV1({ numClasses: 10, alpha: 0.25 })),
    Z('mobilenetV2', () => zoo.mobilenetV2({ numClasses: 10, widthMult: 0.25 })),
    Z('efficientnetB0', () => zoo.efficientnetB0({ numClasses: 10 })),
    Z('unet', () => zoo.unet({ depth: 2, baseChannels: 8, numClasses: 3 })),
    yoloWithNms(),
  ];
}

/** TinyYolo with decoding and NonMaxSuppression in the graph (@kiln/vision's yoloNmsGraph). */
function yoloWithNms(): CheckerCase {
  let built: zoo.YoloNmsGraph | null = null;
  const make = () => (built ??= zoo.yoloNmsGraph(zoo.tinyYolo({ numClasses: 3, numAnchors: 2, batchNorm: true }),
    { gridSize: 4, anchors: [[8, 8], [14, 10]], numClasses: 3, imageSize: 32 }, { scoreThreshold: 0.1 }));
  return { name: 'zoo tinyYolo + yoloNmsGraph', layer: 'tinyYoloNms', make, input: () => randn([2, 3, 32, 32]), get options() { return make().exportOptions; } };
}
