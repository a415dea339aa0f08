/** @kiln/vision/models — torchvision-compatible model factories. */
export { lenet5, LeNet5, type LeNet5Options } from './lenet.js';
export { alexnet, AlexNet, type AlexNetOptions } from './alexnet.js';
export { vgg11, vgg16, vgg16Bn, VGG, VGG_CONFIGS, type VGGOptions } from './vgg.js';
export { resnet18, resnet34, resnet50, ResNet, BasicBlock, Bottleneck, type ResNetOptions } from './resnet.js';
export { googlenet, GoogLeNet, Inception, InceptionAux, BasicConv2d, type GoogLeNetOptions } from './googlenet.js';
export { mobilenetV1, MobileNetV1, DepthwiseSeparable, type MobileNetV1Options } from './mobilenet-v1.js';
export {
  mobilenetV2, MobileNetV2, InvertedResidual, MOBILENET_V2_SETTING, type MobileNetV2Options, type InvertedResidualSetting,
} from './mobilenet-v2.js';
export {
  efficientnetB0, efficientnet, EfficientNet, MBConv, SqueezeExcitation, type MBConvConfig, type EfficientNetOptions,
} from './efficientnet.js';
export { unet, UNet, UNetUp, type UNetOptions } from './unet.js';
export { ConvNormActivation, makeDivisible, type ConvNormActivationOptions } from './blocks.js';
export { minInputSize, type Downsample } from './input-check.js';
export type { ZooOptions } from './options.js';
