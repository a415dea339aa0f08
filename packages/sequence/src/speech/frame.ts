/**
 * Framing: slices of `frameLength` samples every `hopLength` samples.
 * - `center: true` pads ⌊frameLength/2⌋ samples on both sides first (as torch.stft's center), so
 *   frame t is centred on sample t·hop; frames = 1 + ⌊T/hop⌋.
 * - otherwise frames = 1 + ⌊(T − frameLength)/hop⌋ (the signal must hold one frame), or with
 *   `padEnd: true` ⌈T/hop⌉ frames, zero-padded at the end (as tf.signal.frame's pad_end).
 * Pad modes (as torch.nn.functional.pad): reflect (mirror without repeating the edge; the pad
 * must be shorter than the signal), replicate (repeat the edge), constant (zeros), circular.
 */
import { checkOptions, type PadMode, type Tensor } from '@kiln/tensor';
import { checkInt, readSignals, stackResults, type AudioInput, type FeatureDType } from './signal.js';

/** The pad modes (the same as @kiln/tensor's pad). */
export const PAD_MODES: readonly PadMode[] = ['reflect', 'replicate', 'constant', 'circular'];

export interface FrameOptions {
  /** Pad ⌊frameLength/2⌋ on both sides so frames are centred on t·hop (default false). */
  center?: boolean;
  /** How `center` pads (default 'reflect'). */
  padMode?: PadMode;
  /** Without `center`: zero-pad the end so that ⌈T/hop⌉ frames cover every sample (default false). */
  padEnd?: boolean;
  dtype?: FeatureDType;
}

/** `x` with `left`/`right` samples of padding in `mode`. */
export function padSignal(fn: string, x: Float64Array, left: number, right: number, mode: PadMode): Float64Array {
  const T = x.length;
  if (mode === 'reflect' && (left >= T || right >= T)) {
    throw new Error(`Kiln: ${fn}: reflect padding of ${Math.max(left, right)} needs a signal longer than that, got ${T} samples (use padMode 'constant' or a longer signal)`);
  }
  if (mode === 'circular' && (left > T || right > T)) {
    throw new Error(`Kiln: ${fn}: circular padding of ${Math.max(left, right)} needs at least that many samples, got ${T}`);
  }
  const out = new Float64Array(left + T + right);
  out.set(x, left);
  for (let i = 1; i <= left; i++) {
    out[left - i] = mode === 'reflect' ? x[i]! : mode === 'replicate' ? x[0]! : mode === 'circular' ? x[T - i]! : 0;
  }
  for (let i = 0; i < right; i++) {
    out[left + T + i] = mode === 'reflect' ? x[T - 2 - i]! : mode === 'replicate' ? x[T - 1]! : mode === 'circular' ? x[i]! : 0;
  }
  return out;
}

/** Frame geometry shared by frame() and stft(): the padded signal and the frame count. */
export function framePlan(fn: string, x: Float64Array, frameLength: number, hop: number, center: boolean, padMode: PadMode, padEnd: boolean): { padded: Float64Array; frames: number } {
  if (center) {
    const p = Math.floor(frameLength / 2);
    const padded = padSignal(fn, x, p, p, padMode);
    return { padded, frames: 1 + Math.floor((padded.length - frameLength) / hop) };
  }
  if (padEnd) {
    const frames = Math.ceil(x.length / hop);
    const need = (frames - 1) * hop + frameLength;
    return { padded: padSignal(fn, x, 0, Math.max(0, need - x.length), 'constant'), frames };
  }
  if (x.length < frameLength) {
    throw new Error(`Kiln: ${fn}: the signal (${x.length} samples) is shorter than one frame (${frameLength}); use center or padEnd`);
  }
  return { padded: x, frames: 1 + Math.floor((x.length - frameLength) / hop) };
}

export function checkPadMode(fn: string, mode: unknown): PadMode {
  if (!(PAD_MODES as readonly unknown[]).includes(mode)) throw new Error(`Kiln: ${fn}: padMode must be one of ${PAD_MODES.join(', ')}, got ${String(mode)}`);
  return mode as PadMode;
}

/** Frames of a signal: `[frames, frameLength]` (or `[batch, frames, frameLength]`). */
export function frame(x: AudioInput, frameLength: number, hopLength: number, options: FrameOptions = {}): Tensor {
  checkOptions('frame', options, { center: 'boolean', padMode: [...PAD_MODES], padEnd: 'boolean', dtype: ['float32', 'float64'] });
  checkInt('frame', 'frameLength', frameLength, 1);
  checkInt('frame', 'hopLength', hopLength, 1);
  if (options.center && options.padEnd) throw new Error('Kiln: frame: center and padEnd are exclusive (center already pads both ends)');
  const { signals, batchShape, dtype } = readSignals('frame', x);
  let frames = 0;
  const parts = signals.map((s) => {
    const plan = framePlan('frame', s, frameLength, hopLength, options.center ?? false, checkPadMode('frame', options.padMode ?? 'reflect'), options.padEnd ?? false);
    frames = plan.frames;
    const out = new Float64Array(plan.frames * frameLength);
    for (let t = 0; t < plan.frames; t++) out.set(plan.padded.subarray(t * hopLength, t * hopLength + frameLength), t * frameLength);
    return out;
  });
  return stackResults(parts, batchShape, [frames, frameLength], options.dtype ?? dtype);
}
