/** Speech features (course 5.3.2): framing, windows, STFT, spectrograms, mel filterbanks, MFCCs, deltas. WAV I/O is `@kiln/sequence/wav`. */
export { type AudioInput, type FeatureDType } from './signal.js';
export { RealFFT, rfft } from './fft.js';
export { getWindow, hannWindow, hammingWindow, blackmanWindow, WINDOW_NAMES, type WindowName, type WindowSpec, type WindowOptions } from './windows.js';
export { frame, PAD_MODES, type FrameOptions } from './frame.js';
export { stft, spectrogram, type STFTOptions, type SpectrogramOptions } from './stft.js';
export { hzToMel, melToHz, melFilterbank, melSpectrogram, type MelScale, type MelOptions, type MelFilterbankOptions, type MelSpectrogramOptions } from './mel.js';
export { amplitudeToDB, logMelSpectrogram, dctMatrix, mfcc, computeDeltas, type AmplitudeToDBOptions, type LogMelOptions, type MFCCOptions } from './cepstrum.js';
export * from './trigger/index.js';
