/**
 * Synthetic "words" for the trigger-word task: each word is a few syllables, each syllable two
 * formant-like sinusoids whose frequencies glide linearly (chirps) under a smooth envelope, with
 * short gaps between syllables. Every spoken instance varies in speed, pitch and loudness.
 *
 * The trigger ('activate') is three syllables — a rising glide, a steady pair, diverging glides.
 * The negatives are chosen to make the detector look at the whole word: 'acme' starts with the
 * trigger's first syllable, 'tivate' ends with its last two, 'banana' and 'swoop' share its
 * frequency range, 'hum' is two steady tones.
 */
import type { Generator } from '@kiln/tensor';

/** One syllable: duration (s), formant glides [from, to] (Hz), silence after (s). */
export interface Syllable {
  dur: number;
  formants: readonly (readonly [number, number])[];
  gap?: number;
}

export interface SyntheticWord {
  name: string;
  syllables: readonly Syllable[];
}

const A: Syllable = { dur: 0.16, formants: [[400, 800], [1300, 1300]], gap: 0.04 };
const TI: Syllable = { dur: 0.13, formants: [[1000, 1000], [1700, 1500]], gap: 0.04 };
const VATE: Syllable = { dur: 0.18, formants: [[800, 400], [1200, 1600]] };

export const TRIGGER_WORD: SyntheticWord = { name: 'activate', syllables: [A, TI, VATE] };

export const NEGATIVE_WORDS: readonly SyntheticWord[] = [
  { name: 'acme', syllables: [A, { dur: 0.2, formants: [[600, 600], [900, 1100]] }] },
  { name: 'tivate', syllables: [TI, VATE] },
  { name: 'banana', syllables: [
    { dur: 0.12, formants: [[500, 500], [1400, 1400]], gap: 0.03 },
    { dur: 0.12, formants: [[700, 700], [1100, 1100]], gap: 0.03 },
    { dur: 0.12, formants: [[500, 500], [1400, 1400]] },
  ] },
  { name: 'swoop', syllables: [{ dur: 0.45, formants: [[1600, 500], [900, 300]] }] },
  { name: 'hum', syllables: [{ dur: 0.22, formants: [[300, 300], [600, 600]], gap: 0.05 }, { dur: 0.22, formants: [[1200, 1250], [1800, 1800]] }] },
];

/** Spoken length of a word at speed factor `stretch` (s). */
export function wordDuration(word: SyntheticWord, stretch = 1): number {
  return word.syllables.reduce((s, y, i) => s + y.dur + (i < word.syllables.length - 1 ? (y.gap ?? 0) : 0), 0) * stretch;
}

export interface Utterance {
  stretch: number;
  pitch: number;
  gain: number;
}

/** A random speaking of a word: speed ×0.85–1.15, pitch ×0.92–1.08, gain 0.15–0.5. */
export function randomUtterance(gen: Generator): Utterance {
  return { stretch: 0.85 + 0.3 * gen.random(), pitch: 0.92 + 0.16 * gen.random(), gain: 0.15 + 0.35 * gen.random() };
}

/**
 * Adds the word into `out` starting at sample `start` (at `sampleRate`); returns the end sample.
 * Frequencies above 0.45·sampleRate are dropped (no aliasing).
 */
export function renderWord(out: Float32Array, start: number, word: SyntheticWord, sampleRate: number, u: Utterance): number {
  let pos = start;
  const ramp = Math.round(0.015 * sampleRate);
  word.syllables.forEach((syl, si) => {
    const n = Math.round(syl.dur * u.stretch * sampleRate);
    syl.formants.forEach(([f0, f1], fi) => {
      const a = f0 * u.pitch, b = f1 * u.pitch;
      if (Math.max(a, b) > 0.45 * sampleRate) return;
      const amp = u.gain * (fi === 0 ? 1 : 0.6);
      // The chirp's phase advances by Δᵢ = 2π(a + (b−a)·i/n)/sampleRate at sample i. Instead of
      // Math.sin per sample, the phasor z = e^(i·phase) turns by r = e^(iΔᵢ), and r itself turns
      // by the constant e^(i·2π(b−a)/(n·sampleRate)): a few hundred steps keep it within ~1e-13
      // of Math.sin(phase), below the float32 output's resolution.
      const d0 = (2 * Math.PI * a) / sampleRate, dd = (2 * Math.PI * (b - a)) / (n * sampleRate);
      let zr = Math.cos(d0), zi = Math.sin(d0); // e^(iΔ₀): the phase after sample 0
      let rr = Math.cos(d0 + dd), ri = Math.sin(d0 + dd); // e^(iΔ₁)
      const qr = Math.cos(dd), qi = Math.sin(dd);
      for (let i = 0; i < n && pos + i < out.length; i++) {
        const env = i < ramp ? 0.5 - 0.5 * Math.cos((Math.PI * i) / ramp) : i > n - ramp ? 0.5 - 0.5 * Math.cos((Math.PI * (n - i)) / ramp) : 1;
        out[pos + i]! += amp * env * zi;
        const nzr = zr * rr - zi * ri, nrr = rr * qr - ri * qi;
        zi = zr * ri + zi * rr;
        zr = nzr;
        ri = rr * qi + ri * qr;
        rr = nrr;
      }
    });
    pos += n + (si < word.syllables.length - 1 ? Math.round((syl.gap ?? 0) * u.stretch * sampleRate) : 0);
  });
  return pos;
}
