import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tensor, type PadMode } from '@kiln/tensor';
import {
  amplitudeToDB, computeDeltas, dctMatrix, frame, getWindow, hzToMel, logMelSpectrogram, melFilterbank, melSpectrogram, melToHz, mfcc, rfft,
  spectrogram, stft, type MelScale, type WindowName,
} from './index.js';

type Fx = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const fx = JSON.parse(readFileSync(new URL('../../fixtures/speech/features.json', import.meta.url), 'utf8')) as Fx;
const signal = Float64Array.from(fx.signal as number[]);
const short = Float64Array.from(fx.short as number[]);

/** Max |a − b| / max(1, max |b|): errors relative to the reference's scale. */
function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let e = 0, scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e / scale;
}
const errors: Record<string, number> = {};
const record = (name: string, e: number) => { errors[name] = Math.max(errors[name] ?? 0, e); return e; };

describe('speech features against NumPy / torch fixtures (float64)', () => {
  it('windows equal torch.*_window (periodic and symmetric)', () => {
    for (const c of fx.windows as { name: WindowName; length: number; periodic: boolean; values: number[] }[]) {
      const w = getWindow(c.name, c.length, { periodic: c.periodic, dtype: 'float64' });
      expect(record('windows', maxErr(w.dataSync(), c.values))).toBeLessThan(1e-14);
    }
  });

  it('rfft equals numpy.fft.rfft at power-of-two and other sizes', () => {
    for (const c of fx.rfft as { input: number[]; re: number[]; im: number[] }[]) {
      const { re, im } = rfft(c.input);
      const e = Math.max(maxErr(re, c.re), maxErr(im, c.im));
      expect(record(`rfft`, e), `n = ${c.input.length}`).toBeLessThan(1e-12);
    }
  });

  it('frame: centre/pad modes and padEnd give the reference frames', () => {
    for (const c of fx.frames as { frameLength: number; hopLength: number; center: boolean; padMode: PadMode; padEnd: boolean; shape: number[]; values: number[] }[]) {
      const f = frame(short, c.frameLength, c.hopLength, { center: c.center, padMode: c.padMode, padEnd: c.padEnd });
      expect(f.shape).toEqual(c.shape);
      expect(f.dtype).toBe('float64');
      expect(maxErr(f.dataSync(), c.values)).toBe(0);
    }
    // A batch as a 2-d tensor frames each row; float32 in → float32 out.
    const b = frame(new Tensor(Float32Array.from([...short.slice(0, 20), ...short.slice(10, 30)]), [2, 20], 'float32'), 8, 4);
    expect(b.shape).toEqual([2, 4, 8]);
    expect(b.dtype).toBe('float32');
    expect(Array.from(b.dataSync().slice(32, 40))).toEqual(Array.from(Float32Array.from(short.slice(10, 18))));
  });

  it('stft equals torch.stft (hann/hamming/blackman/rectangular, centre pad modes, normalized, two-sided, nFft 400)', () => {
    for (const c of fx.stft as { options: Fx; shape: number[]; torch: number[] }[]) {
      const X = stft(signal, c.options as never);
      expect(X.shape).toEqual(c.shape);
      expect(record('stft', maxErr(X.dataSync(), c.torch)), JSON.stringify(c.options)).toBeLessThan(1e-12);
    }
    // float32 input: float32 output within float32 rounding.
    const c = fx.stft[0] as { options: Fx; torch: number[] };
    const X32 = stft(Float32Array.from(signal), c.options as never);
    expect(X32.dtype).toBe('float32');
    expect(record('stft (float32)', maxErr(X32.dataSync(), c.torch))).toBeLessThan(1e-5);
  });

  it('spectrogram |X|^power (1, 2, 0.5) and batches', () => {
    for (const c of fx.spectrogram as { options: Fx; shape: number[]; values: number[] }[]) {
      const S = spectrogram(signal, c.options as never);
      expect(S.shape).toEqual(c.shape);
      expect(record('spectrogram', maxErr(S.dataSync(), c.values))).toBeLessThan(1e-12);
    }
    const c = fx.spectrogram[0] as { options: Fx; shape: number[]; values: number[] };
    const batch = spectrogram(new Tensor(Float64Array.from([...signal, ...signal]), [2, signal.length], 'float64'), c.options as never);
    expect(batch.shape).toEqual([2, ...c.shape]);
    expect(maxErr(batch.dataSync().subarray(c.values.length), c.values)).toBeLessThan(1e-12);
  });

  it('amplitudeToDB: multiplier, amin, ref and topDb', () => {
    const S = new Tensor(Float64Array.from(fx.db.input as number[]), fx.db.shape as number[], 'float64');
    for (const c of fx.db.cases as { options: Fx; values: number[] }[]) {
      const d = amplitudeToDB(S, c.options);
      expect(record('amplitudeToDB', maxErr(d.dataSync(), c.values))).toBeLessThan(1e-12);
    }
  });

  it('mel scales and filterbanks (HTK/Slaney, norm none/slaney)', () => {
    const hz = fx.melScale.hz as number[];
    for (const s of ['htk', 'slaney'] as MelScale[]) {
      const mels = hz.map((f) => hzToMel(f, s));
      expect(maxErr(mels, fx.melScale[s] as number[])).toBeLessThan(1e-13);
      expect(maxErr(mels.map((m) => melToHz(m, s)), hz)).toBeLessThan(1e-12);
    }
    for (const c of fx.fbanks as Fx[]) {
      const fb = melFilterbank({ nFreqs: c.nFreqs, sampleRate: c.sampleRate, nMels: c.nMels, fMin: c.fMin, fMax: c.fMax, melScale: c.melScale, norm: c.norm, dtype: 'float64' });
      expect(fb.shape).toEqual([c.nFreqs, c.nMels]);
      expect(record('melFilterbank', maxErr(fb.dataSync(), c.values as number[]))).toBeLessThan(1e-12);
    }
  });

  it('mel spectrogram, log-mel (dB with topDb, natural), MFCC (ortho; logMels without norm), DCT matrices, deltas', () => {
    const p = fx.pipeline as Fx;
    const o = p.options as { sampleRate: number; nFft: number; hopLength: number; nMels: number; melScale: MelScale; norm: 'slaney' };
    const mel = melSpectrogram(signal, o);
    expect(mel.shape).toEqual([o.nMels, p.frames]);
    expect(record('melSpectrogram', maxErr(mel.dataSync(), p.mel))).toBeLessThan(1e-12);
    expect(record('logMelSpectrogram', maxErr(logMelSpectrogram(signal, { ...o, topDb: 60 }).dataSync(), p.logMelDb60))).toBeLessThan(1e-12);
    expect(record('logMelSpectrogram', maxErr(logMelSpectrogram(signal, { ...o, log: 'natural' }).dataSync(), p.logMelNatural))).toBeLessThan(1e-12);
    expect(record('dctMatrix', maxErr(dctMatrix(p.nMfcc, o.nMels, { dtype: 'float64' }).dataSync(), p.dctOrtho))).toBeLessThan(1e-14);
    expect(record('dctMatrix', maxErr(dctMatrix(p.nMfcc, o.nMels, { norm: null, dtype: 'float64' }).dataSync(), p.dctNone))).toBeLessThan(1e-14);
    const m = mfcc(signal, { ...o, nMfcc: p.nMfcc });
    expect(m.shape).toEqual([p.nMfcc, p.frames]);
    expect(record('mfcc', maxErr(m.dataSync(), p.mfcc))).toBeLessThan(1e-12);
    expect(record('mfcc', maxErr(mfcc(signal, { ...o, nMfcc: p.nMfcc, logMels: true, dctNorm: null }).dataSync(), p.mfccLogMelsNoNorm))).toBeLessThan(1e-12);
    expect(record('computeDeltas', maxErr(computeDeltas(m).dataSync(), p.deltas5))).toBeLessThan(1e-12);
    expect(record('computeDeltas', maxErr(computeDeltas(m, { winLength: 9, mode: 'constant' }).dataSync(), p.deltas9Constant))).toBeLessThan(1e-12);
    console.log(`speech features, max error relative to the reference's scale: ${Object.entries(errors).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
  });

  it('properties: Parseval for the STFT frames, a pure tone peaks in its bin, HTK/Slaney filters tile the band', () => {
    // A 1 kHz tone at 8 kHz with nFft 64 lands in bin 8 exactly.
    const tone = Float64Array.from({ length: 512 }, (_, n) => Math.sin((2 * Math.PI * 1000 * n) / 8000));
    const S = spectrogram(tone, { nFft: 64, window: 'rectangular', center: false, hopLength: 64, dtype: 'float64' });
    const d = S.dataSync();
    const F = S.shape[1]!;
    for (let t = 0; t < F; t++) {
      let best = 0;
      for (let k = 1; k < 33; k++) if (d[k * F + t]! > d[best * F + t]!) best = k;
      expect(best).toBe(8);
      // Parseval: Σ|x|² = (1/N)(|X0|² + 2Σ|Xk|² + |X_{N/2}|²) for a rectangular frame.
      let e = 0;
      for (let n = 0; n < 64; n++) e += tone[t * 64 + n]! ** 2;
      let s = d[t]! + d[32 * F + t]!;
      for (let k = 1; k < 32; k++) s += 2 * d[k * F + t]!;
      expect(Math.abs(s / 64 - e)).toBeLessThan(1e-9);
    }
  });
});
