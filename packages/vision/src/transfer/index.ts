export { freeze, unfreeze, isFrozen, trainableParameters } from './freeze.js';
export { cacheFeatures, loadCachedFeatures, type CacheFeaturesOptions } from './features.js';
