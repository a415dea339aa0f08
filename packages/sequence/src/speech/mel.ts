/**
 * Mel scales and triangular mel filterbanks (torchaudio.functional.melscale_fbanks).
 *
 * - HTK:    mel = 2595·log10(1 + f/700)
 * - Slaney: mel = 3f/200 below 1 kHz, 15 + 27·ln(f/1000)/ln(6.4) above (the Auditory Toolbox's)
 *
 * nMels + 2 points equally spaced in mel between fMin and fMax, mapped back to Hz (f_0 … f_{M+1}),
 * define filter m as the triangle rising from f_m to f_{m+1} and falling to f_{m+2}, sampled at the
 * nFreqs bin frequencies linspace(0, sampleRate/2, nFreqs). norm 'slaney' scales filter m by
 * 2/(f_{m+2} − f_m) (equal area). Layout `[nFreqs, nMels]` (torchaudio's; librosa's is transposed).
 * torchaudio spaces bins up to ⌊sampleRate/2⌋; here up to sampleRate/2 (the same for even rates).
 */
import { checkOptions, type Tensor } from '@kiln/tensor';
import { spectrogramCore, STFT_SPEC, type SpectrogramOptions } from './stft.js';
import { checkInt, checkNumber, stackResults, toTensor, type AudioInput, type FeatureDType } from './signal.js';

export type MelScale = 'htk' | 'slaney';

const LOG_STEP = Math.log(6.4) / 27;
const F_SP = 200 / 3;
const MIN_LOG_MEL = 1000 / F_SP;

/** Hz → mel. */
export function hzToMel(f: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + f / 700);
  return f >= 1000 ? MIN_LOG_MEL + Math.log(f / 1000) / LOG_STEP : f / F_SP;
}

/** mel → Hz. */
export function melToHz(m: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 700 * (Math.pow(10, m / 2595) - 1);
  return m >= MIN_LOG_MEL ? 1000 * Math.exp(LOG_STEP * (m - MIN_LOG_MEL)) : F_SP * m;
}

export interface MelOptions {
  /** Number of mel filters (default 128, as torchaudio). */
  nMels?: number;
  /** Lowest frequency in Hz (default 0). */
  fMin?: number;
  /** Highest frequency in Hz (default sampleRate/2). */
  fMax?: number;
  /** 'htk' (default, as torchaudio) or 'slaney' (librosa's default). */
  melScale?: MelScale;
  /** null (default): peak 1; 'slaney': equal-area filters. */
  norm?: 'slaney' | null;
}

export interface MelFilterbankOptions extends MelOptions {
  /** Number of STFT bins (nFft/2 + 1 for a one-sided STFT). */
  nFreqs: number;
  sampleRate: number;
  dtype?: FeatureDType;
}

export const MEL_SPEC = {
  nMels: 'posint', fMin: 'finite', fMax: 'finite', melScale: ['htk', 'slaney'],
  norm: (v: unknown) => (v === null || v === 'slaney' ? null : "'slaney' or null"),
} as const;

/** Filter values `[nFreqs, nMels]` in float64. */
export function melFilterValues(fn: string, nFreqs: number, sampleRate: number, o: MelOptions): Float64Array {
  checkInt(fn, 'nFreqs', nFreqs, 2);
  checkNumber(fn, 'sampleRate', sampleRate, 'positive');
  const nMels = o.nMels === undefined ? 128 : checkInt(fn, 'nMels', o.nMels, 1);
  const nyquist = sampleRate / 2;
  const fMin = o.fMin ?? 0, fMax = o.fMax ?? nyquist;
  checkNumber(fn, 'fMin', fMin, 'nonnegative');
  checkNumber(fn, 'fMax', fMax, 'positive');
  if (fMin >= fMax) throw new Error(`Kiln: ${fn}: fMin (${fMin}) must be below fMax (${fMax})`);
  if (fMax > nyquist) throw new Error(`Kiln: ${fn}: fMax (${fMax}) must be <= sampleRate/2 (${nyquist})`);
  const scale = o.melScale ?? 'htk';
  if (scale !== 'htk' && scale !== 'slaney') throw new Error(`Kiln: ${fn}: melScale must be 'htk' or 'slaney', got ${String(scale)}`);
  const mMin = hzToMel(fMin, scale), mMax = hzToMel(fMax, scale);
  const fPts = Float64Array.from({ length: nMels + 2 }, (_, i) => melToHz(mMin + ((mMax - mMin) * i) / (nMels + 1), scale));
  const fb = new Float64Array(nFreqs * nMels);
  for (let k = 0; k < nFreqs; k++) {
    const f = (nyquist * k) / (nFreqs - 1);
    for (let m = 0; m < nMels; m++) {
      const down = (f - fPts[m]!) / (fPts[m + 1]! - fPts[m]!);
      const up = (fPts[m + 2]! - f) / (fPts[m + 2]! - fPts[m + 1]!);
      fb[k * nMels + m] = Math.max(0, Math.min(down, up));
    }
  }
  if (o.norm === 'slaney') {
    for (let m = 0; m < nMels; m++) {
      const enorm = 2 / (fPts[m + 2]! - fPts[m]!);
      for (let k = 0; k < nFreqs; k++) fb[k * nMels + m]! *= enorm;
    }
  }
  return fb;
}

/** The mel filterbank `[nFreqs, nMels]` (torchaudio.functional.melscale_fbanks). */
export function melFilterbank(options: MelFilterbankOptions): Tensor {
  checkOptions('melFilterbank', options, { ...MEL_SPEC, nFreqs: 'posint', sampleRate: 'finite', dtype: ['float32', 'float64'] });
  if (options === undefined) throw new Error('Kiln: melFilterbank: options with nFreqs and sampleRate are required');
  const fb = melFilterValues('melFilterbank', options.nFreqs, options.sampleRate, options);
  return toTensor(fb, [options.nFreqs, options.nMels ?? 128], options.dtype ?? 'float32');
}

export interface MelSpectrogramOptions extends Omit<SpectrogramOptions, 'nFft'>, MelOptions {
  sampleRate: number;
  /** DFT size (default 400, as torchaudio). */
  nFft?: number;
}

export const MEL_SPECTROGRAM_SPEC = { ...STFT_SPEC, ...MEL_SPEC, power: 'finite', sampleRate: 'finite', nFft: 'posint' } as const;

/** Mel spectrogram values per signal (`[nMels, frames]` each). */
export function melCore(fn: string, x: AudioInput, options: MelSpectrogramOptions): { values: Float64Array[]; nMels: number; frames: number; batchShape: number[]; dtype: FeatureDType } {
  if (options === undefined || options === null || typeof options !== 'object') throw new Error(`Kiln: ${fn}: options with sampleRate are required`);
  const { nMels: _n, fMin: _a, fMax: _b, melScale: _s, norm: _m, sampleRate, ...stftOptions } = options;
  checkNumber(fn, 'sampleRate', sampleRate, 'positive');
  const nFft = options.nFft ?? 400;
  if (options.onesided === false) throw new Error(`Kiln: ${fn}: onesided must be true for a mel spectrogram`);
  const nFreqs = Math.floor(checkInt(fn, 'nFft', nFft, 2) / 2) + 1;
  const fb = melFilterValues(fn, nFreqs, sampleRate, options);
  const nMels = options.nMels ?? 128;
  const spec = spectrogramCore(fn, x, { ...stftOptions, nFft });
  const F = spec.frames;
  const values = spec.values.map((s) => {
    const out = new Float64Array(nMels * F);
    for (let k = 0; k < nFreqs; k++) {
      const row = s.subarray(k * F, (k + 1) * F);
      for (let m = 0; m < nMels; m++) {
        const w = fb[k * nMels + m]!;
        if (w === 0) continue;
        const o = m * F;
        for (let t = 0; t < F; t++) out[o + t]! += w * row[t]!;
      }
    }
    return out;
  });
  return { values, nMels, frames: F, batchShape: spec.batchShape, dtype: spec.dtype };
}

/** Mel spectrogram (torchaudio.transforms.MelSpectrogram): `[nMels, frames]`, or `[batch, nMels, frames]`. */
export function melSpectrogram(x: AudioInput, options: MelSpectrogramOptions): Tensor {
  checkOptions('melSpectrogram', options, MEL_SPECTROGRAM_SPEC);
  const r = melCore('melSpectrogram', x, options);
  return stackResults(r.values, r.batchShape, [r.nMels, r.frames], r.dtype);
}
