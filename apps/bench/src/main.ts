// `npm run bench`: Kiln beside PyTorch (when /usr/bin/python3 has torch: torch/torch_job.py runs
// the same workloads in the same command), TF.js (cpu and wasm backends) and ONNX Runtime, on the
// workloads of ../shared/bench-anchors/README.md plus Transformer-encoder and ResNet-18 training,
// MobileNetV2 inference and the peak RSS of a long MLP run, printing the anchors' JSON lines
// (stdout and a JSONL file that bench-anchors/summarize.mjs tables) and the ratio tables on stderr.
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
  TFJS_WORKLOADS, TORCH, WORKLOADS, USAGE, formatRecord, jobId, modelMismatches, parseBenchArgs, parseRecords, ratioTable, torchTable,
  type BenchArgs, type BenchRecord, type Workload,
} from './common.js';
import { RSS_WORKLOAD, rssTable } from './memory.js';
import type { JobSpec } from './job.js';

interface Job { id: string; script: 'kiln-job.js' | 'tfjs-job.js' | 'ort-job.js' | 'torch'; anchor: string; spec: JobSpec }

const here = path.dirname(fileURLToPath(import.meta.url));
/** The PyTorch job script (shipped beside src/, so a clean clone has it). */
const torchScript = path.join(here, '..', 'torch', 'torch_job.py');

/** PyTorch's version when `python` can import torch, else null (the bench then says so). */
function torchVersion(python: string): string | null {
  const r = spawnSync(python, [torchScript, '--probe'], { encoding: 'utf8', timeout: 120_000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

function kilnBackendName(args: BenchArgs): string {
  if (args.backend === null) return getBackend().name;
  if (!listBackends().includes(args.backend)) {
    throw new Error(`Kiln bench: --backend '${args.backend}' is not registered (registered: ${listBackends().join(', ')})`);
  }
  return args.backend;
}

function planJobs(args: BenchArgs, torch: boolean): Job[] {
  const kiln = `kiln-${kilnBackendName(args)}`;
  const jobs: Job[] = [];
  const base = { seconds: args.seconds, windows: args.windows, warmup: args.warmup, sizes: args.sizes, rssSteps: args.rssSteps };
  const add = (script: Job['script'], anchor: string, workload: Workload, threads: number, backend: string | null, windows = args.windows): void => {
    const id = jobId(anchor, workload, threads);
    if (args.only && !args.only.test(id)) return;
    jobs.push({ id, script, anchor, spec: { ...base, workload, threads, backend, windows, python: args.python } });
  };
  for (const w of WORKLOADS) {
    const tfjs = args.tfjs && TFJS_WORKLOADS.includes(w);
    for (const t of args.threads) {
      add('kiln-job.js', kiln, w, t, args.backend);
      if (torch) add('torch', TORCH, w, t, null);
      if (tfjs) add('tfjs-job.js', 'tfjs-wasm', w, t, 'wasm');
      // ONNX Runtime on Kiln's exported MobileNetV2 (batch 1 and 32).
      if (args.ort && w === 'mobilenetv2') add('ort-job.js', 'ort-node', w, t, null);
    }
    // tfjs-cpu has no threads. Its LeNet step takes ~8 s: opt-in, and one window as in the anchors.
    if (tfjs && (w !== 'lenet' || args.tfjsCpuLenet)) add('tfjs-job.js', 'tfjs-cpu', w, 1, 'cpu', w === 'lenet' ? 1 : args.windows);
  }
  return jobs;
}

function runOne(job: Job): BenchRecord[] {
  const cmd = job.script === 'torch' ? [job.spec.python, torchScript] : [process.execPath, path.join(here, job.script)];
  const r = spawnSync(cmd[0]!, [cmd[1]!, JSON.stringify(job.spec)], {
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
  const torch = args.torch ? torchVersion(args.python) : null;
  if (args.torch && !torch) {
    console.error(`Kiln bench: PyTorch not found (${args.python} cannot import torch): Kiln-only figures, no PyTorch ratios`);
  } else if (torch) console.error(`Kiln bench: PyTorch ${torch} (${args.python}) runs the same workloads in this command`);
  const jobs = planJobs(args, torch !== null);
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
      // Peak RSS does not need a median over passes (it varies by a few MB): first pass only.
      if (rep > 1 && job.spec.workload === RSS_WORKLOAD) continue;
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
  // Speed figures; the peak-RSS figures (MB, lower is better) get their own table.
  const speed = records.filter((r) => r.workload !== RSS_WORKLOAD);
  if (speed.some((r) => r.anchor.startsWith('kiln'))) {
    console.error(`\nKiln vs the anchors (× = speed-up of Kiln, > 1 means Kiln is faster; ms figures are latencies${over})\n`);
    console.error(ratioTable([...speed, ...compared.filter((r) => r.workload !== RSS_WORKLOAD)]));
    const vsTorch = torchTable(speed);
    if (vsTorch) {
      console.error(`\nKiln ÷ PyTorch ${torch} (speed ratios, > 1: Kiln faster; both measured in this command${over})\n`);
      console.error(vsTorch);
    } else if (!torch) console.error(`\n(${args.torch ? 'PyTorch not found' : '--no-torch'}: no Kiln ÷ PyTorch table)`);
  }
  const rss = rssTable(records);
  if (rss) {
    console.error(`\nPeak RSS (VmHWM) of an MLP training run of ${args.rssSteps} steps, whole process, MB (Kiln ÷ PyTorch < 1: Kiln uses less)\n`);
    console.error(rss);
  }
  // Both sides must have trained the same model (parameter count, loss at step 0).
  for (const m of modelMismatches(records)) console.error(`WARNING: Kiln and PyTorch differ: ${m}`);
  console.error(`\n${records.length} lines in ${((Date.now() - t0) / 1e3).toFixed(0)} s -> ${outFile}`);
  console.error(`table with other anchor runs: node ../shared/bench-anchors/summarize.mjs ${outFile} [RAW.jsonl...]`);
}

main();
