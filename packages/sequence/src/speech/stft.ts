/**
 * Short-time Fourier transform as torch.stft computes it for real input, and spectrograms.
 *
 * X[k, t] = Σ_{n<nFft} w[n]·x_p[t·hop + n]·e^(−2πi·kn/nFft), where x_p is the signal padded by
 * ⌊nFft/2⌋ on both sides when `center` (reflect by default) and w is the window of `winLength`
 * zero-padded to nFft with ⌊(nFft − winLength)/2⌋ zeros on the left. One-sided output keeps
 * k = 0 … ⌊nFft/2⌋; `normalized` multiplies by nFft^(−1/2).
 *
 * Differences from torch.stft: the default window is the periodic Hann window (torch's default
 * is rectangular, with a warning); the result is real-valued `[..., freq, frames, 2]` (the layout
 * of torch.view_as_real) because Kiln tensors are real.
 */
import { checkOptions, type PadMode, type Tensor } from '@kiln/tensor';
import { fftPlan } from './fft.js';
import { checkPadMode, framePlan, PAD_MODES } from './frame.js';
import { checkInt, checkNumber, readSignals, stackResults, type AudioInput, type FeatureDType } from './signal.js';
import { resolveWindow, WINDOW_NAMES, type WindowSpec } from './windows.js';

export interface STFTOptions {
  /** DFT size (any positive integer; powers of two are fastest). */
  nFft: number;
  /** Samples between frames (default ⌊nFft/4⌋). */
  hopLength?: number;
  /** Window length ≤ nFft (default nFft). */
  winLength?: number;
  /** Window name (periodic) or values of length winLength (default 'hann'). */
  window?: WindowSpec;
  /** Centre frames on t·hop by padding ⌊nFft/2⌋ on both sides (default true). */
  center?: boolean;
  /** Padding used by `center` (default 'reflect', as torch.stft). */
  padMode?: PadMode;
  /** Multiply by nFft^(−1/2) (default false). */
  normalized?: boolean;
  /** Keep bins 0 … ⌊nFft/2⌋ only (default true). */
  onesided?: boolean;
  dtype?: FeatureDType;
}

/** STFT options with `hopLength` defaulting to ⌊winLength/2⌋ (torchaudio's default). */
export interface SpectrogramOptions extends STFTOptions {
  /** Exponent of the magnitude: 1 = magnitude, 2 = power (default 2, as torchaudio). */
  power?: number;
}

export const windowKind = (v: unknown): string | null =>
  (typeof v === 'string' ? ((WINDOW_NAMES as readonly string[]).includes(v) ? null : `one of ${WINDOW_NAMES.join(', ')}`)
    : ArrayBuffer.isView(v) || Array.isArray(v) || (v !== null && typeof v === 'object' && 'dataSync' in v) ? null
    : `a window name (${WINDOW_NAMES.join(', ')}) or an array of values`);

export const STFT_SPEC = {
  nFft: 'posint', hopLength: 'posint', winLength: 'posint', window: windowKind, center: 'boolean', padMode: [...PAD_MODES],
  normalized: 'boolean', onesided: 'boolean', dtype: ['float32', 'float64'],
} as const;

interface StftResult {
  re: Float64Array[];
  im: Float64Array[];
  bins: number;
  frames: number;
  batchShape: number[];
  dtype: FeatureDType;
}

/** Validates the STFT options and computes the complex frames of every signal (`[bins, frames]` each). */
export function stftCore(fn: string, x: AudioInput, options: STFTOptions): StftResult {
  if (options === undefined || options === null || typeof options !== 'object') throw new Error(`Kiln: ${fn}: options with nFft are required`);
  const nFft = checkInt(fn, 'nFft', options.nFft, 1);
  const hop = options.hopLength === undefined ? Math.max(1, Math.floor(nFft / 4)) : checkInt(fn, 'hopLength', options.hopLength, 1);
  const winLength = options.winLength === undefined ? nFft : checkInt(fn, 'winLength', options.winLength, 1);
  if (winLength > nFft) throw new Error(`Kiln: ${fn}: winLength (${winLength}) must be <= nFft (${nFft})`);
  const center = options.center ?? true;
  const padMode = checkPadMode(fn, options.padMode ?? 'reflect');
  const win = resolveWindow(fn, options.window ?? 'hann', winLength);
  const w = new Float64Array(nFft);
  w.set(win, Math.floor((nFft - winLength) / 2));
  const onesided = options.onesided ?? true;
  const bins = onesided ? Math.floor(nFft / 2) + 1 : nFft;
  const scale = options.normalized ? 1 / Math.sqrt(nFft) : 1;
  const { signals, batchShape, dtype } = readSignals(fn, x);
  const plan = fftPlan(nFft);
  const buf = new Float64Array(nFft);
  const re: Float64Array[] = [], im: Float64Array[] = [];
  let frames = 0;
  for (const s of signals) {
    if (!center && s.length < nFft) throw new Error(`Kiln: ${fn}: nFft (${nFft}) is larger than the signal (${s.length} samples) and center is false`);
    const { padded, frames: F } = framePlan(fn, s, nFft, hop, center, padMode, false);
    frames = F;
    const r = new Float64Array(bins * F), i = new Float64Array(bins * F);
    for (let t = 0; t < F; t++) {
      const o = t * hop;
      for (let n = 0; n < nFft; n++) buf[n] = padded[o + n]! * w[n]!;
      plan.transform(buf, r, i, bins, t, F);
    }
    if (scale !== 1) for (let j = 0; j < r.length; j++) { r[j]! *= scale; i[j]! *= scale; }
    re.push(r);
    im.push(i);
  }
  return { re, im, bins, frames, batchShape, dtype: options.dtype ?? dtype };
}

/** torch.stft for real signals: `[freq, frames, 2]` (real, imaginary), batched as `[batch, freq, frames, 2]`. */
export function stft(x: AudioInput, options: STFTOptions): Tensor {
  checkOptions('stft', options, STFT_SPEC);
  const r = stftCore('stft', x, options);
  const parts = r.re.map((re, b) => {
    const im = r.im[b]!;
    const out = new Float64Array(re.length * 2);
    for (let j = 0; j < re.length; j++) { out[2 * j] = re[j]!; out[2 * j + 1] = im[j]!; }
    return out;
  });
  return stackResults(parts, r.batchShape, [r.bins, r.frames, 2], r.dtype);
}

/** Spectrogram |X|^power from the STFT values (internal: float64 per signal). */
export function spectrogramCore(fn: string, x: AudioInput, options: SpectrogramOptions): StftResult & { values: Float64Array[] } {
  const power = options.power === undefined ? 2 : checkNumber(fn, 'power', options.power, 'positive');
  const { power: _p, ...rest } = options;
  // torchaudio's spectrograms hop half a window by default (torch.stft: a quarter of nFft).
  if (rest.hopLength === undefined && Number.isInteger(rest.nFft)) rest.hopLength = Math.max(1, Math.floor((rest.winLength ?? rest.nFft) / 2));
  const r = stftCore(fn, x, rest);
  const values = r.re.map((re, b) => {
    const im = r.im[b]!;
    const out = new Float64Array(re.length);
    for (let j = 0; j < re.length; j++) {
      const p = re[j]! * re[j]! + im[j]! * im[j]!;
      out[j] = power === 2 ? p : power === 1 ? Math.sqrt(p) : Math.pow(p, power / 2);
    }
    return out;
  });
  return { ...r, values };
}

/** |STFT|^power (torchaudio.functional.spectrogram): `[freq, frames]`, or `[batch, freq, frames]`. */
export function spectrogram(x: AudioInput, options: SpectrogramOptions): Tensor {
  checkOptions('spectrogram', options, { ...STFT_SPEC, power: 'finite' });
  const r = spectrogramCore('spectrogram', x, options);
  return stackResults(r.values, r.batchShape, [r.bins, r.frames], r.dtype);
}
