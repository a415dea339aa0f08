"""Small WAV fixtures written by Python's own `wave` module (PCM 16-bit stereo) and by hand (IEEE float 32
mono with a LIST chunk of odd size before the data, and a WAVE_FORMAT_EXTENSIBLE 24-bit PCM file), for
@kiln/sequence/wav's reader. Run with /usr/bin/python3 from packages/sequence:
    /usr/bin/python3 scripts/gen_speech_wav.py
Writes fixtures/speech/*.wav and fixtures/speech/wav.json (the integer/float sample values written).
"""
import json
import os
import struct
import wave

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "speech")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(5)

# PCM 16-bit stereo at 11025 Hz through the standard library.
pcm = rng.integers(-32768, 32768, size=(40, 2)).astype("<i2")
pcm[0] = [-32768, 32767]
with wave.open(os.path.join(OUT, "pcm16_stereo.wav"), "wb") as w:
    w.setnchannels(2)
    w.setsampwidth(2)
    w.setframerate(11025)
    w.writeframes(pcm.tobytes())


def riff(chunks):
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def chunk(cid, data):
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


# IEEE float 32 mono at 8000 Hz, with a 5-byte LIST chunk (padded) before the data.
fl = (rng.standard_normal(25) * 0.4).astype("<f4")
fmt = struct.pack("<HHIIHH", 3, 1, 8000, 8000 * 4, 4, 32)
with open(os.path.join(OUT, "float32_mono_list.wav"), "wb") as f:
    f.write(riff([chunk(b"fmt ", fmt), chunk(b"LIST", b"INFOx"), chunk(b"data", fl.tobytes())]))

# WAVE_FORMAT_EXTENSIBLE, 24-bit PCM mono at 16000 Hz.
p24 = rng.integers(-(2 ** 23), 2 ** 23, size=12)
data = b"".join(int(v & 0xFFFFFF).to_bytes(3, "little") for v in p24)
guid_pcm = struct.pack("<H", 1) + bytes.fromhex("000000001000800000aa00389b71")
fmt_ext = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 16000, 16000 * 3, 3, 24, 22, 24, 4) + guid_pcm
with open(os.path.join(OUT, "pcm24_extensible.wav"), "wb") as f:
    f.write(riff([chunk(b"fmt ", fmt_ext), chunk(b"data", data)]))

with open(os.path.join(OUT, "wav.json"), "w") as f:
    json.dump({"pcm16Stereo": pcm.T.tolist(), "float32Mono": [float(v) for v in fl], "pcm24": [int(v) for v in p24]}, f)
print("wrote", OUT)
