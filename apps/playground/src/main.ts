/**
 * The playground page: a drawing pad classified by the LeNet-5 of models/lenet5-mnist on
 * onnxruntime-web (WebGPU where an adapter exists, Wasm otherwise; the provider that runs is
 * shown), and a "train here" panel whose Web Worker trains an MLP with Kiln, draws the learning
 * curve live, exports it to ONNX and checks the export on onnxruntime-web. State the Chromium
 * tests read is mirrored on `window.__playground`. onnxruntime-web loads on first use (inside
 * createSession); Vite emits its Wasm binary with the app, so nothing is fetched from a CDN.
 */
import { tensor } from '@kiln/tensor';
import { createSession, runSession, type KilnSession } from '@kiln/onnx';
import lenetUrl from '../../../models/lenet5-mnist/model.onnx?url';
import { greyFromRgba, softmax, toMnist32 } from './digit.js';
import { accuracy, decodeSlice } from './train-core.js';
import type { TrainMessage } from './train-worker.js';

export interface PlaygroundState {
  ready: boolean;
  error?: string;
  isolated: boolean;
  providers: readonly string[];
  fallbacks: ReadonlyArray<{ provider: string; reason: string }>;
  predictions: Array<{ digit: number; confidence: number }>;
  training: {
    started?: { backend: string; build: string | null; threads: number; isolated: boolean; steps: number };
    losses: number[];
    done?: { ms: number; maxThreadsUsed: number; onnxBytes: number; ortProviders: readonly string[]; ortAccuracy: number; kilnAccuracy: number; maxAbsDiff: number };
    error?: string;
  };
}

const state: PlaygroundState = { ready: false, isolated: globalThis.crossOriginIsolated === true, providers: [], fallbacks: [], predictions: [], training: { losses: [] } };
(window as unknown as { __playground: PlaygroundState }).__playground = state;
const $ = (id: string) => document.getElementById(id)!;

const preferred = () => ((navigator as { gpu?: unknown }).gpu ? ['webgpu', 'wasm'] : ['wasm']);

let lenet: KilnSession | null = null;
let lenetBytes: Uint8Array | null = null;

/**
 * LeNet-5 on the page's session (WebGPU where it started) beside a Wasm-only session, over the
 * first `count` test digits of the bundled slice: the WebGPU parity check of the tests.
 */
async function lenetParity(count: number): Promise<{ providers: readonly string[]; wasmProviders: readonly string[]; maxAbsDiff: number; agree: number; correct: number; count: number }> {
  const slice = decodeSlice(new Uint8Array(await (await fetch(new URL('mnist-slice.bin', document.baseURI))).arrayBuffer()));
  const n = Math.min(count, slice.testY.length);
  const x = new Float32Array(n * 32 * 32);
  for (let i = 0; i < n; i++) for (let r = 0; r < 28; r++) x.set(slice.testX.subarray(i * 784 + r * 28, i * 784 + r * 28 + 28), i * 1024 + (r + 2) * 32 + 2);
  const wasm = await createSession(lenetBytes!, { backend: 'web', executionProviders: ['wasm'] });
  const input = tensor(x, { shape: [n, 1, 32, 32] });
  const a = (await runSession(lenet!, { input })).logits!.dataSync(), b = (await runSession(wasm, { input })).logits!.dataSync();
  let maxAbsDiff = 0, agree = 0;
  for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i]! - b[i]!));
  const arg = (v: ArrayLike<number>, i: number) => { let k = 0; for (let j = 1; j < 10; j++) if (v[i * 10 + j]! > v[i * 10 + k]!) k = j; return k; };
  for (let i = 0; i < n; i++) agree += arg(a, i) === arg(b, i) ? 1 : 0;
  return { providers: lenet!.providers, wasmProviders: wasm.providers, maxAbsDiff, agree, correct: Math.round(accuracy(a, slice.testY.subarray(0, n)) * n), count: n };
}
(window as unknown as { __lenetParity: typeof lenetParity }).__lenetParity = lenetParity;

async function init(): Promise<void> {
  const bytes = new Uint8Array(await (await fetch(lenetUrl)).arrayBuffer());
  lenetBytes = bytes;
  lenet = await createSession(bytes, { backend: 'web', executionProviders: preferred() });
  state.providers = lenet.providers;
  state.fallbacks = lenet.fallbacks;
  $('provider').textContent = lenet.providers.join(', ');
  $('fallback').textContent = lenet.fallbacks.map((f) => `${f.provider} not used: ${f.reason}`).join('; ');
  $('env').textContent = `cross-origin isolated: ${state.isolated} · cores: ${navigator.hardwareConcurrency} · WebGPU API: ${'gpu' in navigator}`;
  state.ready = true;
  document.body.dataset.ready = 'true';
}

// ---- drawing pad
const pad = $('pad') as HTMLCanvasElement;
const ctx = pad.getContext('2d', { willReadFrequently: true })!;
function clearPad(): void {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
}
clearPad();
let drawing = false;
const at = (e: PointerEvent): [number, number] => {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
};
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  const [x, y] = at(e);
  ctx.strokeStyle = '#fff'; ctx.lineWidth = 22; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 0.01, y); ctx.stroke();
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const [x, y] = at(e);
  ctx.lineTo(x, y); ctx.stroke();
});
pad.addEventListener('pointerup', () => { drawing = false; void classify(); });
$('clear').addEventListener('click', () => { clearPad(); $('prediction').textContent = '–'; $('probs').textContent = ''; });

async function classify(): Promise<void> {
  if (!lenet) return;
  const img = ctx.getImageData(0, 0, pad.width, pad.height);
  const x = toMnist32(greyFromRgba(img.data, img.width, img.height), img.width, img.height);
  if (!x) return;
  const logits = (await runSession(lenet, { input: tensor(x, { shape: [1, 1, 32, 32] }) })).logits!.dataSync();
  const p = softmax(logits);
  const digit = p.indexOf(Math.max(...p));
  state.predictions.push({ digit, confidence: p[digit]! });
  const el = $('prediction');
  el.textContent = String(digit);
  el.dataset.digit = String(digit);
  document.body.dataset.predictions = String(state.predictions.length);
  $('probs').innerHTML = p.map((v, k) => `<div class="bar">${k} <span class="fill" style="width:${Math.round(v * 150)}px"></span> ${(100 * v).toFixed(1)}%</div>`).join('');
}

// ---- train here
const curve = $('curve') as HTMLCanvasElement;
function drawCurve(losses: number[], steps: number): void {
  const c = curve.getContext('2d')!;
  const W = curve.width, H = curve.height, m = 30;
  c.fillStyle = '#fff'; c.fillRect(0, 0, W, H);
  c.strokeStyle = '#999'; c.beginPath(); c.moveTo(m, 8); c.lineTo(m, H - m); c.lineTo(W - 8, H - m); c.stroke();
  const top = Math.max(2.5, ...losses);
  c.fillStyle = '#444'; c.font = '11px sans-serif';
  c.fillText(top.toFixed(1), 2, 14); c.fillText('0', 18, H - m); c.fillText(`step ${steps}`, W - 60, H - m + 16); c.fillText('train loss', m + 6, H - m + 16);
  c.strokeStyle = '#dc2626'; c.lineWidth = 2; c.beginPath();
  losses.forEach((l, i) => {
    const x = m + ((W - m - 8) * i) / Math.max(1, steps - 1), y = H - m - ((H - m - 8) * l) / top;
    if (i === 0) c.moveTo(x, y); else c.lineTo(x, y);
  });
  c.stroke();
}

$('train').addEventListener('click', () => {
  ($('train') as HTMLButtonElement).disabled = true;
  state.training = { losses: [] };
  const status = $('train-status');
  const worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
  worker.onerror = (e) => { state.training.error = e.message; status.textContent = `worker error: ${e.message}`; };
  worker.onmessage = async (e: MessageEvent<TrainMessage>) => {
    const m = e.data;
    if (m.type === 'start') {
      state.training.started = m;
      status.textContent = `training on ${m.backend} (${m.build}), ${m.threads} thread(s), cross-origin isolated: ${m.isolated}`;
    } else if (m.type === 'step') {
      state.training.losses.push(m.loss);
      drawCurve(state.training.losses, state.training.started?.steps ?? 1);
      status.textContent = `step ${m.step + 1}/${state.training.started?.steps}: loss ${m.loss.toFixed(3)} · ${state.training.started?.threads} thread(s)`;
    } else if (m.type === 'error') {
      state.training.error = m.message;
      status.textContent = `error: ${m.message}`;
    } else {
      worker.terminate();
      const s = await createSession(m.onnx, { backend: 'web', executionProviders: preferred() });
      const n = m.testY.length;
      const logits = (await runSession(s, { input: tensor(m.testX, { shape: [n, 784] }) })).output!.dataSync();
      let maxAbsDiff = 0;
      for (let i = 0; i < logits.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(logits[i]! - m.kilnLogits[i]!));
      const done = { ms: m.ms, maxThreadsUsed: m.maxThreadsUsed, onnxBytes: m.onnx.length, ortProviders: s.providers, ortAccuracy: accuracy(logits, m.testY), kilnAccuracy: accuracy(m.kilnLogits, m.testY), maxAbsDiff };
      state.training.done = done;
      status.textContent = `done: ${m.losses.length} steps in ${(m.ms / 1000).toFixed(2)} s, loss ${m.losses[0]!.toFixed(3)} → ${m.losses.at(-1)!.toFixed(3)}, kernels used up to ${m.maxThreadsUsed} thread(s)`;
      $('export-result').textContent = `exported ${done.onnxBytes} bytes of ONNX; onnxruntime-web (${s.providers.join(', ')}) on ${n} held-out digits: accuracy ${(100 * done.ortAccuracy).toFixed(1)}% (Kiln ${(100 * done.kilnAccuracy).toFixed(1)}%), max |Kiln − ORT| logit ${maxAbsDiff.toExponential(2)}`;
      document.body.dataset.trained = 'true';
    }
  };
  worker.postMessage({ sliceUrl: new URL('mnist-slice.bin', document.baseURI).href });
});

init().catch((e) => {
  state.error = (e as Error)?.stack ?? String(e);
  $('env').textContent = `error: ${state.error}`;
  document.body.dataset.ready = 'error';
});
