import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// the browser test builds the app and drives Chromium: generous limits, as hang protection only
export default mergeConfig(shared, { test: { testTimeout: 180_000, hookTimeout: 180_000 } });
