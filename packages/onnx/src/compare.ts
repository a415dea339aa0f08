/** compareWithOrt: export a model, run it on ONNX Runtime, and measure the gap to Kiln. */
import { noGrad, type Tensor } from '@kiln/tensor';
import { exportOnnx, type Exportable, type ExportOptions } from './export/export.js';
import { createSession, runSession, type SessionOptions } from './runtime/session.js';

export interface OrtComparison {
  maxAbsDiff: number;
  /** max |kiln − ort| / max(1, |kiln|) over every output element. */
  maxRelDiff: number;
  kiln: Tensor[];
  ort: Tensor[];
  bytes: Uint8Array;
}

/** Exports `model` (eval mode, dynamic batch), runs `inputs` through Kiln and ONNX Runtime. */
export async function compareWithOrt(
  model: Exportable, inputs: Tensor | readonly Tensor[], options: ExportOptions & SessionOptions = {},
): Promise<OrtComparison> {
  const list = Array.isArray(inputs) ? [...(inputs as readonly Tensor[])] : [inputs as Tensor];
  model.eval?.();
  const inputNames = options.inputNames ?? list.map((_, i) => (list.length === 1 ? 'input' : `input_${i}`));
  // Session keys go to ONNX Runtime, the rest to exportOnnx (which rejects unknown ones).
  const { backend, executionProviders, logSeverityLevel, ...exportOptions } = options;
  const sessionOptions: SessionOptions = {};
  if (backend !== undefined) sessionOptions.backend = backend;
  if (executionProviders !== undefined) sessionOptions.executionProviders = executionProviders;
  if (logSeverityLevel !== undefined) sessionOptions.logSeverityLevel = logSeverityLevel;
  const bytes = exportOnnx(model, list, { dynamicAxes: true, ...exportOptions, inputNames });
  const kilnOut = noGrad(() => model.forward(...list));
  const kiln = Array.isArray(kilnOut) ? kilnOut : [kilnOut];
  const session = await createSession(bytes, sessionOptions);
  const feeds = Object.fromEntries(inputNames.map((n, i) => [n, list[i]!]));
  const res = await runSession(session, feeds);
  const ort = session.outputNames.map((n) => res[n]!);
  let maxAbsDiff = 0, maxRelDiff = 0;
  kiln.forEach((k, i) => {
    const a = k.dataSync(), o = ort[i]!.dataSync();
    if (a.length !== o.length) throw new Error(`Kiln: compareWithOrt: output ${i} has ${a.length} elements in Kiln and ${o.length} on ORT`);
    for (let j = 0; j < a.length; j++) {
      const d = Math.abs(Number(a[j]) - Number(o[j]));
      maxAbsDiff = Math.max(maxAbsDiff, d);
      maxRelDiff = Math.max(maxRelDiff, d / Math.max(1, Math.abs(Number(a[j]))));
    }
  });
  return { maxAbsDiff, maxRelDiff, kiln, ort, bytes };
}
