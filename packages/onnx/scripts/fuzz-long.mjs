#!/usr/bin/env node
/**
 * Long fuzz run of every loading path: the same properties `npm test` runs (src/import/fuzz.test.ts
 * in @kiln/onnx, src/checkpoint/safetensors-dtypes.test.ts in @kiln/nn, src/text/loaders-fuzz.test.ts in
 * @kiln/sequence) with KILN_FUZZ_RUNS times
 * as many cases and a fresh seed each round.
 *   node packages/onnx/scripts/fuzz-long.mjs [--scale 30] [--rounds 3] [--seed 123]
 * A failing round prints fast-check's counterexample and the seed that reproduces it.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const scale = opt('scale', 30);
const rounds = opt('rounds', 1);
const firstSeed = opt('seed', Math.floor(Math.random() * 2 ** 31));
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const targets = [
  { pkg: join(root, 'onnx'), file: 'src/import/fuzz.test.ts' },
  { pkg: join(root, 'nn'), file: 'src/checkpoint/safetensors-dtypes.test.ts' },
  { pkg: join(root, 'sequence'), file: 'src/text/loaders-fuzz.test.ts' },
];
let failed = false;
for (let r = 0; r < rounds; r++) {
  const seed = firstSeed + r;
  for (const t of targets) {
    const started = Date.now();
    const res = spawnSync('npx', ['vitest', 'run', t.file], {
      cwd: t.pkg, encoding: 'utf8', env: { ...process.env, KILN_FUZZ_RUNS: String(scale), KILN_FUZZ_SEED: String(seed) },
    });
    const out = `${res.stdout}${res.stderr}`;
    const counts = out.match(/onnx fuzz: [^\n]*/)?.[0] ?? '';
    const ok = res.status === 0;
    failed ||= !ok;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${t.file} scale=${scale} seed=${seed} ${((Date.now() - started) / 1000).toFixed(1)} s ${counts}`);
    if (!ok) console.log(out.split('\n').filter((l) => /Counterexample|Error|expected|×/.test(l)).slice(0, 20).join('\n'));
  }
}
process.exit(failed ? 1 : 0);
