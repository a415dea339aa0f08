/**
 * Log scales, MFCCs and deltas (torchaudio's amplitude_to_DB, create_dct, MFCC, compute_deltas).
 *
 * - dB: multiplier·log10(max(x, amin)) − multiplier·log10(max(ref, amin)); with topDb, values
 *   below (max − topDb) are raised to it, the max taken over each `[freq, time]` matrix (each
 *   signal of a batch separately; torchaudio takes one max across a stacked batch).
 * - DCT-II matrix `[nMels, nMfcc]`: D[n, k] = cos(π/N·(n + ½)·k); 'ortho' scales by √(2/N) and
 *   column 0 by a further 1/√2 (an orthonormal basis); no norm scales by 2.
 * - MFCC: the DCT of the dB mel spectrogram (top 80 dB kept, torchaudio's default) or, with
 *   `logMels`, of ln(mel + 1e-6): `mfcc[k, t] = Σ_n D[n, k]·logmel[n, t]`.
 * - Deltas along the last (time) dim: d[t] = Σ_{i=1..N} i·(x[t+i] − x[t−i]) / (2·Σ i²), N = (winLength−1)/2,
 *   with the ends padded by `mode` (replicate by default).
 */
import { checkOptions, type PadMode, type Tensor } from '@kiln/tensor';
import { padSignal, PAD_MODES } from './frame.js';
import { melCore, MEL_SPECTROGRAM_SPEC, type MelSpectrogramOptions } from './mel.js';
import { checkInt, checkNumber, readFeatures, stackResults, toTensor, type AudioInput, type FeatureDType } from './signal.js';

export interface AmplitudeToDBOptions {
  /** 10 for power spectrograms (default), 20 for magnitudes. */
  multiplier?: number;
  /** Floor applied before the log (default 1e-10). */
  amin?: number;
  /** Reference value mapped to 0 dB (default 1). */
  ref?: number;
  /** Keep only the top `topDb` decibels of each spectrogram (default null: no limit). */
  topDb?: number | null;
}

const nullOr = (kind: 'positive') => (v: unknown) => (v === null || (typeof v === 'number' && Number.isFinite(v) && (kind !== 'positive' || v > 0)) ? null : 'a positive number or null');
const DB_SPEC = { multiplier: 'finite', amin: 'finite', ref: 'finite', topDb: nullOr('positive') } as const;

/** dB in place over `data` (`matrix` values per spectrogram). */
function toDbInPlace(fn: string, data: Float64Array, matrix: number, o: AmplitudeToDBOptions): void {
  const mult = o.multiplier ?? 10;
  const amin = checkNumber(fn, 'amin', o.amin ?? 1e-10, 'positive');
  const ref = checkNumber(fn, 'ref', o.ref ?? 1, 'positive');
  const offset = mult * Math.log10(Math.max(ref, amin));
  for (let i = 0; i < data.length; i++) {
    if (data[i]! < 0) throw new Error(`Kiln: ${fn}: the spectrogram must be non-negative, got ${data[i]} at index ${i}`);
    data[i] = mult * Math.log10(Math.max(data[i]!, amin)) - offset;
  }
  const top = o.topDb ?? null;
  if (top === null) return;
  checkNumber(fn, 'topDb', top, 'positive');
  for (let s = 0; s < data.length; s += matrix) {
    let max = -Infinity;
    for (let i = s; i < s + matrix; i++) max = Math.max(max, data[i]!);
    for (let i = s; i < s + matrix; i++) data[i] = Math.max(data[i]!, max - top);
  }
}

/** torchaudio.functional.amplitude_to_DB (power → dB with multiplier 10, magnitude → dB with 20). */
export function amplitudeToDB(x: Tensor, options: AmplitudeToDBOptions = {}): Tensor {
  checkOptions('amplitudeToDB', options, DB_SPEC);
  const { data, shape, dtype } = readFeatures('amplitudeToDB', x, 'input', 1);
  const matrix = shape.length >= 2 ? shape[shape.length - 1]! * shape[shape.length - 2]! : data.length;
  toDbInPlace('amplitudeToDB', data, Math.max(1, matrix), options);
  return toTensor(data, shape, dtype);
}

export interface LogMelOptions extends MelSpectrogramOptions {
  /** 'db' (default): (20/power)·log10(max(mel, amin)); 'natural': ln(max(mel, amin)). */
  log?: 'db' | 'natural';
  /** Floor before the log (default 1e-10). */
  amin?: number;
  /** dB only: keep the top `topDb` decibels (default null). */
  topDb?: number | null;
}

/** Log-mel spectrogram: `[nMels, frames]`, or `[batch, nMels, frames]`. */
export function logMelSpectrogram(x: AudioInput, options: LogMelOptions): Tensor {
  checkOptions('logMelSpectrogram', options, { ...MEL_SPECTROGRAM_SPEC, log: ['db', 'natural'], amin: 'finite', topDb: DB_SPEC.topDb });
  const { log = 'db', amin = 1e-10, topDb = null, ...melOptions } = options;
  const r = melCore('logMelSpectrogram', x, melOptions);
  if (log === 'natural' && topDb !== null) throw new Error("Kiln: logMelSpectrogram: topDb applies to log 'db' only");
  checkNumber('logMelSpectrogram', 'amin', amin, 'positive');
  for (const v of r.values) {
    if (log === 'db') toDbInPlace('logMelSpectrogram', v, v.length, { multiplier: 20 / (options.power ?? 2), amin, topDb });
    else for (let i = 0; i < v.length; i++) v[i] = Math.log(Math.max(v[i]!, amin));
  }
  return stackResults(r.values, r.batchShape, [r.nMels, r.frames], r.dtype);
}

/** DCT-II values `[nMels, nMfcc]`. */
function dctValues(fn: string, nMfcc: number, nMels: number, norm: 'ortho' | null): Float64Array {
  checkInt(fn, 'nMels', nMels, 1);
  checkInt(fn, 'nMfcc', nMfcc, 1);
  if (nMfcc > nMels) throw new Error(`Kiln: ${fn}: nMfcc (${nMfcc}) must be <= nMels (${nMels})`);
  if (norm !== null && norm !== 'ortho') throw new Error(`Kiln: ${fn}: the DCT norm must be 'ortho' or null, got ${String(norm)}`);
  const d = new Float64Array(nMels * nMfcc);
  for (let n = 0; n < nMels; n++) {
    for (let k = 0; k < nMfcc; k++) {
      const c = Math.cos((Math.PI / nMels) * (n + 0.5) * k);
      d[n * nMfcc + k] = norm === null ? 2 * c : c * Math.sqrt(2 / nMels) * (k === 0 ? Math.SQRT1_2 : 1);
    }
  }
  return d;
}

/** The DCT-II matrix `[nMels, nMfcc]` (torchaudio.functional.create_dct). */
export function dctMatrix(nMfcc: number, nMels: number, options: { norm?: 'ortho' | null; dtype?: FeatureDType } = {}): Tensor {
  checkOptions('dctMatrix', options, { norm: (v) => (v === null || v === 'ortho' ? null : "'ortho' or null"), dtype: ['float32', 'float64'] });
  return toTensor(dctValues('dctMatrix', nMfcc, nMels, options.norm === undefined ? 'ortho' : options.norm), [nMels, nMfcc], options.dtype ?? 'float32');
}

export interface MFCCOptions extends MelSpectrogramOptions {
  /** Coefficients kept (default 40, as torchaudio). */
  nMfcc?: number;
  /** DCT norm (default 'ortho'). */
  dctNorm?: 'ortho' | null;
  /** ln(mel + 1e-6) instead of dB (default false). */
  logMels?: boolean;
  /** dB range kept before the DCT (default 80, as torchaudio; null: no limit). */
  topDb?: number | null;
}

/** MFCCs (torchaudio.transforms.MFCC): `[nMfcc, frames]`, or `[batch, nMfcc, frames]`. */
export function mfcc(x: AudioInput, options: MFCCOptions): Tensor {
  checkOptions('mfcc', options, {
    ...MEL_SPECTROGRAM_SPEC, nMfcc: 'posint', dctNorm: (v) => (v === null || v === 'ortho' ? null : "'ortho' or null"), logMels: 'boolean', topDb: DB_SPEC.topDb,
  });
  const { nMfcc = 40, dctNorm = 'ortho', logMels = false, topDb = 80, ...melOptions } = options;
  const nMels = options.nMels ?? 128;
  const D = dctValues('mfcc', nMfcc, nMels, dctNorm);
  const r = melCore('mfcc', x, melOptions);
  const F = r.frames;
  const out = r.values.map((v) => {
    if (logMels) for (let i = 0; i < v.length; i++) v[i] = Math.log(v[i]! + 1e-6);
    else toDbInPlace('mfcc', v, v.length, { multiplier: 10, amin: 1e-10, topDb });
    const c = new Float64Array(nMfcc * F);
    for (let n = 0; n < nMels; n++) {
      for (let k = 0; k < nMfcc; k++) {
        const w = D[n * nMfcc + k]!;
        for (let t = 0; t < F; t++) c[k * F + t]! += w * v[n * F + t]!;
      }
    }
    return c;
  });
  return stackResults(out, r.batchShape, [nMfcc, F], r.dtype);
}

/** torchaudio.functional.compute_deltas along the last dim (apply twice for delta-deltas). */
export function computeDeltas(x: Tensor, options: { winLength?: number; mode?: PadMode } = {}): Tensor {
  checkOptions('computeDeltas', options, { winLength: 'posint', mode: [...PAD_MODES] });
  const winLength = options.winLength ?? 5;
  if (winLength < 3) throw new Error(`Kiln: computeDeltas: winLength must be >= 3, got ${winLength}`);
  const { data, shape, dtype } = readFeatures('computeDeltas', x, 'input', 1);
  const T = shape[shape.length - 1]!;
  if (T === 0) throw new Error(`Kiln: computeDeltas: the last dim is empty (shape [${shape.join(',')}])`);
  const n = Math.floor((winLength - 1) / 2);
  const denom = (n * (n + 1) * (2 * n + 1)) / 3;
  const out = new Float64Array(data.length);
  for (let r = 0; r < data.length; r += T) {
    const p = padSignal('computeDeltas', data.subarray(r, r + T), n, n, options.mode ?? 'replicate');
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let i = 1; i <= n; i++) s += i * (p[t + n + i]! - p[t + n - i]!);
      out[r + t] = s / denom;
    }
  }
  return toTensor(out, shape, dtype);
}
