export { makeGrid, saveImageGrid, type GridOptions } from './grid.js';
export { receptiveField, measuredReceptiveField, type ReceptiveField } from './receptive-field.js';
export {
  layerOutput, featureMapGrid, saveFeatureMaps, topActivatingPatches, saveTopPatches,
  type FeatureMapOptions, type TopPatchesOptions, type TopPatches,
} from './activations.js';
