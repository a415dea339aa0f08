/** Runs the op suite (ops-suite.ts) in a Web Worker, as the page's training does: a threaded kernel's calling thread spins until its helpers finish, which would freeze a page's main thread. */
import { getNumThreads, setNumThreads, threadsReady, wasmInfo } from '@kiln/tensor';
import { runOpSuite, type OpResult } from './ops-suite.js';

export type OpsMessage =
  | { type: 'done'; isolated: boolean; build: string | null; threads: number; maxThreadsUsed: number; results: OpResult[] }
  | { type: 'error'; message: string };

self.onmessage = async () => {
  try {
    const isolated = (self as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    if (isolated) setNumThreads(2);
    await threadsReady();
    const results = runOpSuite();
    const m: OpsMessage = { type: 'done', isolated, build: wasmInfo()?.build ?? null, threads: getNumThreads(), maxThreadsUsed: wasmInfo()?.maxThreadsUsed ?? 1, results };
    self.postMessage(m);
  } catch (err) {
    self.postMessage({ type: 'error', message: (err as Error)?.stack ?? String(err) } satisfies OpsMessage);
  }
};
