/** ops.html: runs the op suite in a worker and shows (and exposes, for the tests) its results. */
import type { OpsMessage } from './ops-worker.js';

const status = document.getElementById('ops-status')!;
const table = document.getElementById('ops-table') as HTMLTableElement;
const worker = new Worker(new URL('./ops-worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (e: MessageEvent<OpsMessage>) => {
  const m = e.data;
  (window as unknown as { __ops: OpsMessage }).__ops = m;
  if (m.type === 'error') { status.textContent = `error: ${m.message}`; status.className = 'bad'; return; }
  const bad = m.results.filter((r) => !r.ok).length;
  status.textContent = `${m.results.length - bad}/${m.results.length} passed · build ${m.build} · cross-origin isolated ${m.isolated} · threads ${m.threads} (most used by a kernel: ${m.maxThreadsUsed})`;
  for (const r of m.results) {
    const row = table.insertRow();
    row.className = r.ok ? '' : 'bad';
    for (const v of [r.ok ? 'ok' : 'FAIL', r.name, r.kind, r.maxErr.toExponential(2), r.detail ?? '']) row.insertCell().textContent = v;
  }
};
worker.onerror = (e) => { status.textContent = `worker error: ${e.message}`; };
worker.postMessage({});
