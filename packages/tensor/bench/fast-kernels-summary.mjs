// Prints median times and the fast/reference speed-up per workload from a vitest bench JSON report:
//   npx vitest bench --run bench/fast-kernels.bench.ts --outputJson /tmp/fast-kernels.json
//   node bench/fast-kernels-summary.mjs /tmp/fast-kernels.json
import { readFileSync } from 'node:fs';

const path = process.argv[2];
if (!path) throw new Error('usage: node bench/fast-kernels-summary.mjs <vitest bench --outputJson file>');
const report = JSON.parse(readFileSync(path, 'utf8'));
const rows = [];
for (const file of report.files ?? []) {
  for (const group of file.groups ?? []) {
    const by = Object.fromEntries((group.benchmarks ?? []).map((b) => [b.name, b]));
    if (!by.reference || !by.fast) continue;
    const title = group.fullName.split(' > ').slice(1).join(' > ');
    rows.push([title, by.reference.median, by.fast.median]);
  }
}
const width = Math.max(...rows.map((r) => r[0].length));
const us = (ms) => `${(ms * 1000).toFixed(1)} µs`.padStart(12);
console.log(`${'workload'.padEnd(width)}  ${'reference'.padStart(12)}  ${'fast'.padStart(12)}  speed-up (medians)`);
for (const [title, ref, fast] of rows) console.log(`${title.padEnd(width)}  ${us(ref)}  ${us(fast)}  ×${(ref / fast).toFixed(2)}`);
