import { describe, expect, it } from 'vitest';
import { Tensor } from '@kiln/tensor';
import {
  amplitudeToDB, computeDeltas, dctMatrix, frame, getWindow, logMelSpectrogram, melFilterbank, melSpectrogram, mfcc, rfft, RealFFT, spectrogram, stft,
} from './index.js';

const x = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i / 3));

describe('speech features: bad input names the function, the argument and the values', () => {
  it('framing and STFT geometry', () => {
    expect(() => stft(x, { nFft: 64, hopLength: 0 })).toThrow(/Kiln: stft: option 'hopLength' must be a positive integer, got 0/);
    expect(() => stft(x, { nFft: 64, hopLength: -4 })).toThrow(/Kiln: stft: option 'hopLength' must be a positive integer, got -4/);
    expect(() => stft(x, { nFft: 0 })).toThrow(/Kiln: stft: option 'nFft' must be a positive integer, got 0/);
    expect(() => stft(x, {} as never)).toThrow(/Kiln: stft: nFft must be an integer >= 1, got undefined/);
    expect(() => stft(x, { nFft: 32, winLength: 64 })).toThrow(/Kiln: stft: winLength \(64\) must be <= nFft \(32\)/);
    expect(() => stft(x, { nFft: 512, center: false })).toThrow(/Kiln: stft: nFft \(512\) is larger than the signal \(256 samples\) and center is false/);
    expect(() => stft(x, { nFft: 600 })).toThrow(/Kiln: stft: reflect padding of 300 needs a signal longer than that, got 256 samples/);
    expect(stft(x, { nFft: 600, padMode: 'constant' }).shape).toEqual([301, 2, 2]) // 1 + ⌊(256 + 600 − 600)/150⌋;
    expect(() => stft(x, { nFft: 64, padMode: 'mirror' as never })).toThrow(/Kiln: stft: option 'padMode' must be one of 'reflect', 'replicate', 'constant', 'circular', got 'mirror'/);
    expect(() => stft(x, { nFft: 64, window: 'kaiser' as never })).toThrow(/Kiln: stft: option 'window' must be one of hann, hamming, blackman, rectangular, got 'kaiser'/);
    expect(() => stft(x, { nFft: 64, window: new Float32Array(60) })).toThrow(/Kiln: stft: window has 60 values but winLength is 64/);
    expect(() => stft(x, { nFft: 64, hop: 16 } as never)).toThrow(/Kiln: stft: unknown option 'hop'/);
    expect(() => frame(x, 300, 10)).toThrow(/Kiln: frame: the signal \(256 samples\) is shorter than one frame \(300\); use center or padEnd/);
    expect(() => frame(x, 16, 0)).toThrow(/Kiln: frame: hopLength must be an integer >= 1, got 0/);
    expect(() => frame(x, 16, 4, { center: true, padEnd: true })).toThrow(/Kiln: frame: center and padEnd are exclusive/);
    expect(() => getWindow('hann', 0)).toThrow(/Kiln: getWindow: window length must be an integer >= 1, got 0/);
    expect(() => new RealFFT(0)).toThrow(/Kiln: RealFFT: size must be a positive integer, got 0/);
    expect(() => rfft([])).toThrow(/Kiln: rfft: the signal is empty/);
  });

  it('signals: dims, dtype, non-finite samples, empty input', () => {
    expect(() => spectrogram(new Tensor(new Float32Array(8), [2, 2, 2], 'float32'), { nFft: 4 })).toThrow(/Kiln: spectrogram: signal must be a 1-d \[time\] or 2-d \[batch, time\] tensor, got shape \[2,2,2\]/);
    expect(() => spectrogram(new Tensor(new Int32Array(8), [8], 'int32'), { nFft: 4 })).toThrow(/Kiln: spectrogram: signal must be a float32 or float64 tensor, got int32/);
    const bad = Float64Array.from(x); bad[17] = NaN;
    expect(() => stft(bad, { nFft: 64 })).toThrow(/Kiln: stft: signal must be finite, got NaN at index 17/);
    expect(() => melSpectrogram(new Tensor(Float32Array.from([0, 1, Infinity, 0]), [2, 2], 'float32'), { sampleRate: 8000, nFft: 2 })).toThrow(/Kiln: melSpectrogram: signal must be finite, got Infinity at index 1,0/);
    expect(() => stft(new Float32Array(0), { nFft: 4 })).toThrow(/Kiln: stft: signal is empty/);
    expect(() => stft('abc' as never, { nFft: 4 })).toThrow(/Kiln: stft: signal must be a Float32Array, Float64Array, number array or tensor, got 'abc'/);
    expect(() => spectrogram(x, { nFft: 64, power: -1 })).toThrow(/Kiln: spectrogram: power must be a positive number, got -1/);
  });

  it('mel ranges, DCT sizes, dB options, deltas', () => {
    expect(() => melFilterbank({ nFreqs: 33, sampleRate: 8000, fMin: 3000, fMax: 1000 })).toThrow(/Kiln: melFilterbank: fMin \(3000\) must be below fMax \(1000\)/);
    expect(() => melFilterbank({ nFreqs: 33, sampleRate: 8000, fMax: 6000 })).toThrow(/Kiln: melFilterbank: fMax \(6000\) must be <= sampleRate\/2 \(4000\)/);
    expect(() => melFilterbank({ nFreqs: 33, sampleRate: 8000, fMin: -5 })).toThrow(/Kiln: melFilterbank: fMin must be a nonnegative number, got -5/);
    expect(() => melFilterbank({ nFreqs: 33, sampleRate: 8000, nMels: 0 })).toThrow(/Kiln: melFilterbank: option 'nMels' must be a positive integer, got 0/);
    expect(() => melFilterbank({ nFreqs: 33, sampleRate: 8000, melScale: 'bark' as never })).toThrow(/option 'melScale' must be one of 'htk', 'slaney', got 'bark'/);
    expect(() => melFilterbank({ nFreqs: 33, sampleRate: 8000, norm: 'l2' as never })).toThrow(/option 'norm' must be 'slaney' or null, got 'l2'/);
    expect(() => melFilterbank({ nFreqs: 33, sampleRate: -1 })).toThrow(/Kiln: melFilterbank: sampleRate must be a positive number, got -1/);
    expect(() => melSpectrogram(x, { sampleRate: 8000, nFft: 64, fMax: 5000 })).toThrow(/Kiln: melSpectrogram: fMax \(5000\) must be <= sampleRate\/2 \(4000\)/);
    expect(() => melSpectrogram(x, {} as never)).toThrow(/Kiln: melSpectrogram: sampleRate must be a positive number, got undefined/);
    expect(() => dctMatrix(30, 20)).toThrow(/Kiln: dctMatrix: nMfcc \(30\) must be <= nMels \(20\)/);
    expect(() => mfcc(x, { sampleRate: 8000, nFft: 64, nMels: 10, nMfcc: 13 })).toThrow(/Kiln: mfcc: nMfcc \(13\) must be <= nMels \(10\)/);
    expect(() => logMelSpectrogram(x, { sampleRate: 8000, nFft: 64, nMels: 8, log: 'natural', topDb: 80 })).toThrow(/topDb applies to log 'db' only/);
    expect(() => amplitudeToDB(new Tensor(Float32Array.from([1, -1]), [2], 'float32'))).toThrow(/Kiln: amplitudeToDB: the spectrogram must be non-negative, got -1 at index 1/);
    expect(() => amplitudeToDB(new Tensor(Float32Array.from([1, 2]), [2], 'float32'), { topDb: -3 })).toThrow(/option 'topDb' must be a positive number or null, got -3/);
    expect(() => amplitudeToDB(new Tensor(Float32Array.from([1, 2]), [2], 'float32'), { amin: 0 })).toThrow(/Kiln: amplitudeToDB: amin must be a positive number, got 0/);
    expect(() => computeDeltas(new Tensor(new Float32Array(4), [2, 2], 'float32'), { winLength: 2 })).toThrow(/Kiln: computeDeltas: winLength must be >= 3, got 2/);
    expect(() => computeDeltas(new Tensor(new Float32Array(4), [2, 2], 'float32'), { winLength: 9, mode: 'reflect' })).toThrow(/Kiln: computeDeltas: reflect padding of 4 needs a signal longer than that, got 2 samples/);
  });
});
