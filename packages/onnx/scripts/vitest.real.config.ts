import { defineConfig } from 'vitest/config';
import shared from '../../../vitest.shared.ts';

// The real-model checks that need generated (uncommitted) files; not part of `npm test`.
export default defineConfig({ ...shared, test: { ...shared.test, include: [process.env.KILN_SCRIPT_TEST ?? 'scripts/real-models.test.ts'], testTimeout: 600_000 } });
