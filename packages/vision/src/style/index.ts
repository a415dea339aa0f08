/** Neural style transfer: Gram matrices and costs, named feature extraction, the optimisation loop. */
export {
  gramMatrix, contentCost, styleLayerCost, styleCost, totalVariation, totalCost, type GramOptions, type TotalVariationOptions,
} from './costs.js';
export { featureExtractor, type FeatureExtractor } from './feature-extractor.js';
export { styleTransfer, type StyleTransferOptions, type StyleTransferResult, type StyleLayers, type StyleProgress } from './transfer.js';
