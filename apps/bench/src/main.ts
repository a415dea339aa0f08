// `npm run bench`: Kiln beside TF.js (cpu and wasm backends) on the workloads of
// ../shared/bench-anchors/README.md, printing the anchors' JSON lines (stdout and a JSONL file
// that bench-anchors/summarize.mjs tables) and a speed-up table on stderr.
//
// Every job (framework × workload × thread count) runs in its own Node process, one after the
// other, as the anchor scripts do: TF.js and Kiln never share a heap, a JIT or a thread pool
// (tfjs-wasm's Emscripten workers would otherwise compete with Kiln's), one job's garbage and
// Wasm memory growth cannot slow the next, and a crash (tfjs-wasm cannot train LeNet) becomes
// that job's error line instead of ending the run. Jobs of one workload run back to back, so the
// figures a ratio compares are measured close together on this noisy machine.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, listBackends } from '@kiln/tensor';
import {
  WORKLOADS, USAGE, formatRecord, jobId, parseBenchArgs, parseRecords, ratioTable, type BenchArgs, type BenchRecord, type Workload,
} from './common.js';
import type { JobSpec } from './job.js';

interface Job { id: string; script: 'kiln-job.js' | 'tfjs-job.js'; anchor: string; spec: JobSpec }

const here = path.dirname(fileURLToPath(import.meta.url));

function kilnBackendName(args: BenchArgs): string {
  if (args.backend === null) return getBackend().name;
  if (!listBackends().includes(args.backend)) {
    throw new Error(`Kiln bench: --backend '${args.backend}' is not registered (registered: ${listBackends().join(', ')})`);
  }
  return args.backend;
}

function planJobs(args: BenchArgs): Job[] {
  const kiln = `kiln-${kilnBackendName(args)}`;
  const jobs: Job[] = [];
  const base = { seconds: args.seconds, windows: args.windows, sizes: args.sizes };
  const add = (script: Job['script'], anchor: string, workload: Workload, threads: number, backend: string | null, windows = args.windows): void => {
    const id = jobId(anchor, workload, threads);
    if (args.only && !args.only.test(id)) return;
    jobs.push({ id, script, anchor, spec: { ...base, workload, threads, backend, windows } });
  };
  for (const w of WORKLOADS) {
    for (const t of args.threads) {
      add('kiln-job.js', kiln, w, t, args.backend);
      if (args.tfjs) add('tfjs-job.js', 'tfjs-wasm', w, t, 'wasm');
    }
    // tfjs-cpu has no threads. Its LeNet step takes ~8 s: opt-in, and one window as in the anchors.
    if (args.tfjs && (w !== 'lenet' || args.tfjsCpuLenet)) add('tfjs-job.js', 'tfjs-cpu', w, 1, 'cpu', w === 'lenet' ? 1 : args.windows);
  }
  return jobs;
}

function runOne(job: Job): BenchRecord[] {
  const r = spawnSync(process.execPath, [path.join(here, job.script), JSON.stringify(job.spec)], {
    encoding: 'utf8', maxBuffer: 64 << 20, timeout: 900_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recs = parseRecords(r.stdout ?? '');
  if (r.status !== 0 && !recs.some((x) => x.error !== undefined)) {
    const line = (r.stderr ?? '').split('\n').find((l) => /Error|error:/.test(l));
    recs.push({ anchor: job.anchor, threads: job.spec.threads, workload: job.spec.workload, error: line?.trim() ?? `exit ${r.status ?? r.signal}` });
  }
  return recs;
}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function main(): void {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) { console.error(USAGE); return; }
  const jobs = planJobs(args);
  if (!jobs.length) throw new Error('Kiln bench: no job matches --only');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outFile = path.resolve(args.out ?? path.join(here, '..', 'bench-results', `raw-${stamp}.jsonl`));
  console.error(`Kiln bench: ${jobs.length} jobs (${jobs.map((j) => j.id).join(', ')})\n  -> ${outFile}`);
  const load = os.loadavg()[0]!;
  if (load > 0.5) console.error(`  note: load average ${load.toFixed(1)} on ${os.availableParallelism()} CPUs before starting; other work skews the figures`);
  const records: BenchRecord[] = [];
  const t0 = Date.now();
  for (let rep = 1; rep <= args.reps; rep++) {
    for (const [i, job] of jobs.entries()) {
      const start = Date.now();
      const recs = runOne(job).map((r) => (args.reps > 1 ? { ...r, rep } : r));
      for (const rec of recs) {
        console.log(formatRecord(rec));
        records.push(rec);
      }
      writeAtomic(outFile, records.map((x) => formatRecord(x) + '\n').join(''));
      const summary = recs.map((x) => x.error !== undefined ? `ERROR ${x.error}` : `${x.workload}${x.n ? ` n=${x.n}` : ''} ${Number(x.value).toPrecision(4)} ${x.metric}`);
      const pass = args.reps > 1 ? `rep ${rep} ` : '';
      console.error(`${pass}[${i + 1}/${jobs.length}] ${job.id} (${((Date.now() - start) / 1e3).toFixed(1)} s): ${summary.join('; ')}`);
    }
  }
  // Kiln lines of compared files (an earlier run) become a `prev-kiln-…` column, not more rows.
  const compared = args.compare.flatMap((f) => parseRecords(fs.readFileSync(f, 'utf8')))
    .map((r) => (r.anchor.startsWith('kiln') ? { ...r, anchor: `prev-${r.anchor}` } : r));
  const over = args.reps > 1 ? `, medians over ${args.reps} processes` : '';
  if (records.some((r) => r.anchor.startsWith('kiln'))) {
    console.error(`\nKiln vs the anchors (× = speed-up of Kiln, > 1 means Kiln is faster; ms figures are latencies${over})\n`);
    console.error(ratioTable([...records, ...compared]));
  }
  console.error(`\n${records.length} lines in ${((Date.now() - t0) / 1e3).toFixed(0)} s -> ${outFile}`);
  console.error(`table with other anchor runs: node ../shared/bench-anchors/summarize.mjs ${outFile} [RAW.jsonl...]`);
}

main();
