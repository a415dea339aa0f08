import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '@kiln/tensor';
import { decodeWav, encodeWav, readWav, writeWav } from '@kiln/sequence/wav';

const dir = mkdtempSync(join(tmpdir(), 'kiln-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string) => new URL(`../../fixtures/speech/${name}`, import.meta.url);
const expected = JSON.parse(readFileSync(fixture('wav.json'), 'utf8')) as { pcm16Stereo: number[][]; float32Mono: number[]; pcm24: number[] };
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(b, (v, i) => Math.abs(a[i]! - v)).reduce((m, v) => Math.max(m, v), 0);

describe('WAV I/O (@kiln/sequence/wav, node-wav)', () => {
  const t = Float64Array.from({ length: 1000 }, (_, i) => 0.8 * Math.sin(i / 7));
  const right = Float64Array.from(t, (v) => -0.5 * v);

  it('round-trips PCM 16-bit and float 32-bit, mono and stereo, through files written atomically', async () => {
    await writeWav(join(dir, 'mono16.wav'), t, { sampleRate: 8000 });
    const m = await readWav(join(dir, 'mono16.wav'));
    expect(m.sampleRate).toBe(8000);
    expect(m.format).toBe('pcm16');
    expect(m.channelData.length).toBe(1);
    expect(maxDiff(m.channelData[0]!, t)).toBeLessThanOrEqual(1 / 32767 + 1e-7); // truncation toward zero
    await writeWav(join(dir, 'stereo32f.wav'), [t, right], { sampleRate: 44100, format: 'float32' });
    const s = await readWav(join(dir, 'stereo32f.wav'));
    expect([s.sampleRate, s.format, s.channelData.length]).toEqual([44100, 'float32', 2]);
    expect(Array.from(s.channelData[1]!)).toEqual(Array.from(Float32Array.from(right)));
    expect(readFileSync(join(dir, 'stereo32f.wav')).length).toBe(44 + 1000 * 2 * 4);
    // A [channels, time] tensor and the other PCM depths.
    for (const [format, bits] of [['pcm8', 8], ['pcm24', 24], ['pcm32', 32]] as const) {
      const bytes = encodeWav(new Tensor(Float32Array.from([...t, ...right]), [2, 1000], 'float32'), { sampleRate: 16000, format });
      const d = decodeWav(bytes);
      expect(d.format).toBe(format);
      expect(maxDiff(d.channelData[0]!, Float32Array.from(t))).toBeLessThanOrEqual(2 / 2 ** (bits - 1) + 1e-7);
    }
    expect(readdirSync(dir).sort()).toEqual(['mono16.wav', 'stereo32f.wav']); // no temporary files left
    // Out-of-range samples are clipped to [-1, 1].
    expect(Array.from(decodeWav(encodeWav([2, -3, 0.5], { sampleRate: 8000, format: 'float32' })).channelData[0]!)).toEqual([1, -1, 0.5]);
  });

  it('reads files from Python: wave-module PCM 16 stereo, float 32 with an odd LIST chunk, 24-bit WAVE_FORMAT_EXTENSIBLE', async () => {
    const a = await readWav(fixture('pcm16_stereo.wav').pathname);
    expect([a.sampleRate, a.format, a.channelData.length]).toEqual([11025, 'pcm16', 2]);
    a.channelData.forEach((ch, c) => expect(maxDiff(ch, expected.pcm16Stereo[c]!.map((v) => (v < 0 ? v / 32768 : v / 32767)))).toBeLessThan(1e-7));
    expect(a.channelData[0]![0]).toBe(-1);
    expect(a.channelData[1]![0]).toBe(1);
    const b = decodeWav(readFileSync(fixture('float32_mono_list.wav')));
    expect([b.sampleRate, b.format]).toEqual([8000, 'float32']);
    expect(Array.from(b.channelData[0]!)).toEqual(Array.from(Float32Array.from(expected.float32Mono)));
    const c = decodeWav(readFileSync(fixture('pcm24_extensible.wav')));
    expect([c.sampleRate, c.format]).toEqual([16000, 'pcm24']);
    expect(maxDiff(c.channelData[0]!, expected.pcm24.map((v) => (v < 0 ? v / 8388608 : v / 8388607)))).toBeLessThan(1e-7);
  });

  it('clear errors for truncated, foreign and malformed files and bad arguments', async () => {
    const good = encodeWav(t, { sampleRate: 8000 });
    expect(() => decodeWav(good.subarray(0, 8))).toThrow(/Kiln: decodeWav: the input is truncated or not a WAV file: 8 bytes/);
    expect(() => decodeWav(good.subarray(0, 30))).toThrow(/truncated: its fmt chunk declares 16 bytes, 10 remain/);
    expect(() => decodeWav(good.subarray(0, 1000))).toThrow(/truncated: its data chunk declares 2000 bytes, 956 remain/);
    expect(() => decodeWav(good.subarray(0, 36))).toThrow(/truncated or has no data chunk/);
    expect(() => decodeWav(new TextEncoder().encode('ID3\u0004 this is an mp3 file'))).toThrow(/not a WAV file \(expected 'RIFF'…'WAVE', got "ID3\\u0004"/);
    const adpcm = Uint8Array.from(good);
    new DataView(adpcm.buffer).setUint16(20, 0x11, true);
    expect(() => decodeWav(adpcm)).toThrow(/audio format 0x11; only PCM \(1\) and IEEE float \(3\)/);
    const bits12 = Uint8Array.from(good);
    new DataView(bits12.buffer).setUint16(34, 12, true);
    expect(() => decodeWav(bits12)).toThrow(/12-bit PCM samples/);
    const odd = Uint8Array.from(good.subarray(0, 44 + 2000 - 1));
    new DataView(odd.buffer).setUint32(40, 1999, true);
    expect(() => decodeWav(odd)).toThrow(/1999 data bytes, not a whole number of 2-byte frames/);
    writeFileSync(join(dir, 'cut.wav'), good.subarray(0, 500));
    await expect(readWav(join(dir, 'cut.wav'))).rejects.toThrow(/cut\.wav is truncated: its data chunk declares 2000 bytes, 456 remain/);
    await expect(readWav(join(dir, 'missing.wav'))).rejects.toThrow(/Kiln: readWav: could not read .*missing\.wav/);
    rmSync(join(dir, 'cut.wav'));
    expect(() => encodeWav([t, right.subarray(0, 10)], { sampleRate: 8000 })).toThrow(/Kiln: encodeWav: channel 1 has 10 samples, channel 0 has 1000/);
    expect(() => encodeWav([0, NaN], { sampleRate: 8000 })).toThrow(/audio must be finite, got NaN at channel 0, sample 1/);
    expect(() => encodeWav(t, { sampleRate: 0 })).toThrow(/option 'sampleRate' must be a positive integer, got 0/);
    expect(() => encodeWav(t, { sampleRate: 8000, format: 'float64' as never })).toThrow(/option 'format' must be one of/);
    expect(() => encodeWav(t, {} as never)).toThrow(/options.sampleRate is required/);
    expect(() => encodeWav(new Tensor(new Float32Array(8), [2, 2, 2], 'float32'), { sampleRate: 8000 })).toThrow(/\[time\] or \[channels, time\] tensor, got shape \[2,2,2\]/);
    await expect(writeWav(join(dir, 'no-such-dir', 'x.wav'), t, { sampleRate: 8000 })).rejects.toThrow(/Kiln: writeWav: could not write/);
  });
});
