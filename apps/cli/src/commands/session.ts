import { createSession, type KilnSession } from '@kiln/onnx';
import type { Out } from './common.js';

export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'webgpu'] as const;
export type Ep = (typeof EXECUTION_PROVIDERS)[number];

/** A session and the execution provider it actually got. */
export interface OpenedSession { session: KilnSession; provider: Ep; fallbackReason?: string }

/**
 * Opens an onnxruntime-node session on `ep`; when that provider cannot start here (no CUDA
 * libraries, no WebGPU adapter), falls back to cpu, says so on stderr, and reports which ran.
 */
export async function openSession(bytes: Uint8Array, ep: Ep, out: Out): Promise<OpenedSession> {
  if (ep !== 'cpu') {
    try {
      return { session: await createSession(bytes, { backend: 'node', executionProviders: [ep], logSeverityLevel: 3 }), provider: ep };
    } catch (e) {
      const reason = (e as Error).message.split('\n')[0]!.replace(/^Kiln: createSession \(node\): ONNX Runtime rejected the model: /, '').slice(0, 200);
      out.note(`kiln: execution provider '${ep}' is not available here (${reason}); falling back to cpu`);
      return { session: await createSession(bytes, { backend: 'node', executionProviders: ['cpu'], logSeverityLevel: 3 }), provider: 'cpu', fallbackReason: reason };
    }
  }
  return { session: await createSession(bytes, { backend: 'node', executionProviders: ['cpu'], logSeverityLevel: 3 }), provider: 'cpu' };
}
