/** Finds the Bun and Deno binaries installed as the root devDependencies `bun` and `deno`. */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Bun's binary lives in an optional platform package (@oven/bun-<os>-<arch>[-baseline]). */
export function bunBinary(): string {
  const exe = process.platform === 'win32' ? 'bun.exe' : 'bun';
  try {
    const bin = join(dirname(require.resolve(`@oven/bun-${process.platform}-${process.arch}/package.json`)), 'bin', exe);
    if (existsSync(bin)) return bin;
  } catch {
    // not resolvable from here (e.g. the baseline build): search node_modules below
  }
  for (let dir = here; ; dir = dirname(dir)) {
    const oven = join(dir, 'node_modules', '@oven');
    if (existsSync(oven)) {
      for (const name of readdirSync(oven)) {
        const bin = join(oven, name, 'bin', exe);
        if (name.startsWith(`bun-${process.platform}-`) && existsSync(bin)) return bin;
      }
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error('Kiln tests: no Bun binary found under node_modules/@oven (is the bun devDependency installed?)');
}

/** The deno npm package's launcher: [node, launcher.js]. */
export function denoCommand(): [string, string] {
  const pkg = require.resolve('deno/package.json');
  const { bin } = require(pkg) as { bin: string | Record<string, string> };
  return [process.execPath, join(dirname(pkg), typeof bin === 'string' ? bin : bin.deno!)];
}
