/**
 * The "train here" Web Worker: Kiln's Wasm backend trains the MLP (threaded when the page is
 * cross-origin isolated, the pool's own threads being Blob-URL workers started from here), streams
 * each step's loss, then exports the model to ONNX and sends the bytes back with Kiln's logits on
 * the test digits so the page can compare them with onnxruntime-web.
 */
import { getBackend, getNumThreads, setNumThreads, threadsReady, tensor, wasmInfo } from '@kiln/tensor';
import { exportOnnx } from '@kiln/onnx';
import { DEFAULT_TRAIN, decodeSlice, predict, trainMlp, type TrainOptions } from './train-core.js';

export type TrainRequest = { sliceUrl: string; options?: Partial<TrainOptions> };
export type TrainMessage =
  | { type: 'start'; backend: string; build: string | null; threads: number; isolated: boolean; steps: number }
  | { type: 'step'; step: number; loss: number }
  | { type: 'done'; ms: number; losses: number[]; maxThreadsUsed: number; onnx: Uint8Array; testX: Float32Array; testY: Int32Array; kilnLogits: Float32Array }
  | { type: 'error'; message: string };

const post = (m: TrainMessage, transfer: Transferable[] = []) => (self as unknown as { postMessage(m: unknown, t: Transferable[]): void }).postMessage(m, transfer);

self.onmessage = async (e: MessageEvent<TrainRequest>) => {
  try {
    const options = { ...DEFAULT_TRAIN, ...e.data.options };
    const bytes = new Uint8Array(await (await fetch(e.data.sliceUrl)).arrayBuffer());
    const data = decodeSlice(bytes);
    const isolated = (self as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    if (isolated) setNumThreads(Math.min(4, Math.max(2, navigator.hardwareConcurrency || 2)));
    await threadsReady(); // waits for the workers to report ready, never for a fixed time
    post({ type: 'start', backend: getBackend().name, build: wasmInfo()?.build ?? null, threads: getNumThreads(), isolated, steps: options.steps });
    const r = await trainMlp(data, options, (step, loss) => post({ type: 'step', step, loss }));
    const onnx = exportOnnx(r.model, tensor(new Float32Array(784), { shape: [1, 784] }), { dynamicAxes: true, metadata: { 'kiln.playground': 'MLP 784-128-10 trained in a browser worker' } });
    const kilnLogits = predict(r.model, data.testX);
    const testX = data.testX.slice(), testY = data.testY.slice();
    post({ type: 'done', ms: r.ms, losses: r.losses, maxThreadsUsed: wasmInfo()?.maxThreadsUsed ?? 1, onnx, testX, testY, kilnLogits }, [onnx.buffer as ArrayBuffer, testX.buffer, testY.buffer, kilnLogits.buffer as ArrayBuffer]);
  } catch (err) {
    post({ type: 'error', message: (err as Error)?.stack ?? String(err) });
  }
};
