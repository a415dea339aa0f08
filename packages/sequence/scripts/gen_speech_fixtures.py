"""Speech-feature fixtures for @kiln/sequence's speech module (framing, windows, FFT, STFT, spectrograms,
mel filterbanks, log-mel, MFCC, deltas).

Run with /usr/bin/python3 from packages/sequence:
    /usr/bin/python3 scripts/gen_speech_fixtures.py
Writes fixtures/speech/features.json. The references are written from the formulas with NumPy (float64),
independently of the TypeScript code; windows and STFTs are also taken from torch (torch.*_window,
torch.stft) where torch 1.13 provides them. torchaudio and librosa are not installed here, so their
mel/MFCC definitions are re-derived below from their documented formulas.
"""
import json
import math
import os

import numpy as np
import torch

rng = np.random.default_rng(16)
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "speech")


def arr(x):
    return [float(v) for v in np.asarray(x, dtype=np.float64).ravel()]


def window(name, n, periodic):
    if n == 1 or name == "rectangular":
        return np.ones(n)
    m = n if periodic else n - 1
    k = np.arange(n)
    c = np.cos(2 * np.pi * k / m)
    if name == "hann":
        return 0.5 - 0.5 * c
    if name == "hamming":
        return 0.54 - 0.46 * c
    return 0.42 - 0.5 * c + 0.08 * np.cos(4 * np.pi * k / m)


def pad(x, left, right, mode):
    if mode == "reflect":
        return np.pad(x, (left, right), mode="reflect")
    if mode == "replicate":
        return np.pad(x, (left, right), mode="edge")
    if mode == "circular":
        return np.pad(x, (left, right), mode="wrap")
    return np.pad(x, (left, right), mode="constant")


def frames_of(x, length, hop, center, pad_mode="reflect", pad_end=False):
    if center:
        x = pad(x, length // 2, length // 2, pad_mode)
        n = 1 + (len(x) - length) // hop
    elif pad_end:
        n = -(-len(x) // hop)
        x = np.pad(x, (0, max(0, (n - 1) * hop + length - len(x))))
    else:
        n = 1 + (len(x) - length) // hop
    return np.stack([x[t * hop: t * hop + length] for t in range(n)])


def stft_np(x, n_fft, hop, win_length, win, center=True, pad_mode="reflect", normalized=False, onesided=True):
    w = np.zeros(n_fft)
    left = (n_fft - win_length) // 2
    w[left: left + win_length] = win
    fr = frames_of(x, n_fft, hop, center, pad_mode) * w
    X = np.fft.rfft(fr, axis=1) if onesided else np.fft.fft(fr, axis=1)
    if normalized:
        X = X / math.sqrt(n_fft)
    return X.T  # [freq, frames]


def hz_to_mel(f, scale):
    f = np.asarray(f, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3
    lin = f / f_sp
    min_log_mel = 1000.0 / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(f >= 1000.0, min_log_mel + np.log(np.maximum(f, 1e-300) / 1000.0) / logstep, lin)


def mel_to_hz(m, scale):
    m = np.asarray(m, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    min_log_mel = 1000.0 / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, 1000.0 * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_fbanks(n_freqs, f_min, f_max, n_mels, sr, norm, scale):
    all_freqs = np.linspace(0, sr / 2, n_freqs)
    m_pts = np.linspace(hz_to_mel(f_min, scale), hz_to_mel(f_max, scale), n_mels + 2)
    f_pts = mel_to_hz(m_pts, scale)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts[None, :] - all_freqs[:, None]
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    fb = np.maximum(0.0, np.minimum(down, up))
    if norm == "slaney":
        fb = fb * (2.0 / (f_pts[2: n_mels + 2] - f_pts[:n_mels]))[None, :]
    return fb  # [n_freqs, n_mels]


def to_db(x, multiplier, amin, top_db):
    d = multiplier * np.log10(np.maximum(x, amin))
    if top_db is not None:
        d = np.maximum(d, d.max() - top_db)
    return d


def dct_mat(n_mfcc, n_mels, norm):
    n = np.arange(n_mels)
    k = np.arange(n_mfcc)[:, None]
    d = np.cos(math.pi / n_mels * (n + 0.5) * k)
    if norm is None:
        d = d * 2.0
    else:
        d[0] *= 1.0 / math.sqrt(2.0)
        d = d * math.sqrt(2.0 / n_mels)
    return d.T  # [n_mels, n_mfcc]


def deltas(x, win_length, mode):
    n = (win_length - 1) // 2
    denom = n * (n + 1) * (2 * n + 1) / 3
    out = np.zeros_like(x)
    for r in range(x.shape[0]):
        p = pad(x[r], n, n, mode)
        for t in range(x.shape[1]):
            out[r, t] = sum(i * (p[t + n + i] - p[t + n - i]) for i in range(1, n + 1)) / denom
    return out


sr = 8000
t = np.arange(1200) / sr
signal = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 1250 * t + 0.3) + 0.1 * rng.standard_normal(len(t))
short = rng.standard_normal(37)

fx = {"sampleRate": sr, "signal": arr(signal), "short": arr(short)}

# Windows: the formulas and torch's own, which must agree.
fx["windows"] = []
for name, tfn in [("hann", torch.hann_window), ("hamming", torch.hamming_window), ("blackman", torch.blackman_window), ("rectangular", None)]:
    for n in [1, 2, 7, 16]:
        for periodic in [True, False]:
            w = window(name, n, periodic)
            if tfn is not None:
                tw = tfn(n, periodic=periodic, dtype=torch.float64).numpy()
                assert np.abs(tw - w).max() < 1e-12, (name, n, periodic)
            fx["windows"].append({"name": name, "length": n, "periodic": periodic, "values": arr(w)})

# One-sided DFTs at power-of-two and other sizes (Bluestein in Kiln).
fx["rfft"] = []
for n in [1, 2, 3, 5, 8, 12, 16, 37, 100, 400, 512]:
    x = rng.standard_normal(n)
    X = np.fft.rfft(x)
    fx["rfft"].append({"input": arr(x), "re": arr(X.real), "im": arr(X.imag)})

# Framing.
fx["frames"] = []
for length, hop, center, mode, pad_end in [(16, 4, False, "reflect", False), (16, 5, True, "reflect", False), (10, 3, True, "constant", False),
                                           (9, 4, True, "replicate", False), (8, 3, True, "circular", False), (12, 5, False, "constant", True)]:
    f = frames_of(short, length, hop, center, mode, pad_end)
    fx["frames"].append({"frameLength": length, "hopLength": hop, "center": center, "padMode": mode, "padEnd": pad_end,
                         "shape": list(f.shape), "values": arr(f)})

# STFTs: torch.stft, checked here against the NumPy formula (their max difference is recorded).
fx["stft"] = []
cases = [
    dict(nFft=64, hopLength=16, winLength=64, window="hann", center=True, padMode="reflect", normalized=False, onesided=True),
    dict(nFft=100, hopLength=40, winLength=80, window="hamming", center=True, padMode="constant", normalized=True, onesided=True),
    dict(nFft=48, hopLength=20, winLength=48, window="blackman", center=False, padMode="reflect", normalized=False, onesided=True),
    dict(nFft=32, hopLength=23, winLength=25, window="rectangular", center=True, padMode="replicate", normalized=False, onesided=False),
    dict(nFft=400, hopLength=160, winLength=400, window="hann", center=True, padMode="reflect", normalized=False, onesided=True),
]
for c in cases:
    win = window(c["window"], c["winLength"], True)
    X = stft_np(signal, c["nFft"], c["hopLength"], c["winLength"], win, c["center"], c["padMode"], c["normalized"], c["onesided"])
    T = torch.stft(torch.tensor(signal), c["nFft"], hop_length=c["hopLength"], win_length=c["winLength"], window=torch.tensor(win),
                   center=c["center"], pad_mode=c["padMode"], normalized=c["normalized"], onesided=c["onesided"], return_complex=True)
    T = torch.view_as_real(T).numpy()
    ref = np.stack([X.real, X.imag], axis=-1)
    assert T.shape == ref.shape, (T.shape, ref.shape)
    assert np.abs(T - ref).max() < 1e-10
    fx["stft"].append({"options": c, "shape": list(ref.shape), "torch": arr(T),
                       "torchVsNumpy": float(np.abs(T - ref).max())})

# Spectrograms (power 1, 2 and 0.5), hop = winLength // 2 by default.
fx["spectrogram"] = []
for c in [dict(nFft=64, power=2), dict(nFft=50, power=1, winLength=40), dict(nFft=64, power=0.5, center=False)]:
    win_length = c.get("winLength", c["nFft"])
    X = stft_np(signal, c["nFft"], win_length // 2, win_length, window("hann", win_length, True), c.get("center", True))
    S = np.abs(X) ** c["power"]
    fx["spectrogram"].append({"options": c, "shape": list(S.shape), "values": arr(S)})

# dB.
S = np.abs(stft_np(signal, 32, 64, 32, window("hann", 32, True))) ** 2
fx["db"] = {"input": arr(S), "shape": list(S.shape), "cases": []}
for c in [dict(multiplier=10, amin=1e-10, topDb=None), dict(multiplier=20, amin=1e-5, topDb=None), dict(multiplier=10, amin=1e-10, topDb=40), dict(multiplier=10, amin=1e-3, topDb=20, ref=2.0)]:
    d = to_db(S, c["multiplier"], c["amin"], None) - c["multiplier"] * math.log10(max(c.get("ref", 1.0), c["amin"]))
    if c["topDb"] is not None:
        d = np.maximum(d, d.max() - c["topDb"])
    fx["db"]["cases"].append({"options": c, "values": arr(d)})

# Mel filterbanks and scales.
fx["melScale"] = {"hz": arr([0, 200, 999, 1000, 1001, 3000, 8000])}
for s in ["htk", "slaney"]:
    fx["melScale"][s] = arr(hz_to_mel(np.array(fx["melScale"]["hz"]), s))
fx["fbanks"] = []
for n_freqs, f_min, f_max, n_mels, rate, norm, scale in [(33, 0, 4000, 10, 8000, None, "htk"), (33, 0, 4000, 10, 8000, "slaney", "slaney"),
                                                         (201, 50, 7000, 40, 16000, None, "slaney"), (201, 300, 3000, 23, 16000, "slaney", "htk")]:
    fb = mel_fbanks(n_freqs, f_min, f_max, n_mels, rate, norm, scale)
    fx["fbanks"].append({"nFreqs": n_freqs, "fMin": f_min, "fMax": f_max, "nMels": n_mels, "sampleRate": rate, "norm": norm,
                         "melScale": scale, "values": arr(fb)})

# Mel spectrogram, log-mel, MFCC, deltas (one pipeline).
n_fft, hop, n_mels, n_mfcc = 128, 64, 20, 13
P = np.abs(stft_np(signal, n_fft, hop, n_fft, window("hann", n_fft, True))) ** 2
fb = mel_fbanks(n_fft // 2 + 1, 0, sr / 2, n_mels, sr, "slaney", "slaney")
mel = fb.T @ P
logmel_db = to_db(mel, 10, 1e-10, 60)
logmel_ln = np.log(np.maximum(mel, 1e-10))
D = dct_mat(n_mfcc, n_mels, "ortho")
mf = D.T @ to_db(mel, 10, 1e-10, 80)
mf_ln = dct_mat(n_mfcc, n_mels, None).T @ np.log(mel + 1e-6)
fx["pipeline"] = {
    "options": dict(sampleRate=sr, nFft=n_fft, hopLength=hop, nMels=n_mels, melScale="slaney", norm="slaney"),
    "nMfcc": n_mfcc, "frames": P.shape[1],
    "mel": arr(mel), "logMelDb60": arr(logmel_db), "logMelNatural": arr(logmel_ln), "mfcc": arr(mf), "mfccLogMelsNoNorm": arr(mf_ln),
    "dctOrtho": arr(D), "dctNone": arr(dct_mat(n_mfcc, n_mels, None)),
    "deltas5": arr(deltas(mf, 5, "replicate")), "deltas9Constant": arr(deltas(mf, 9, "constant")),
}
# The orthonormal DCT is orthonormal.
assert np.abs(dct_mat(n_mels, n_mels, "ortho").T @ dct_mat(n_mels, n_mels, "ortho") - np.eye(n_mels)).max() < 1e-12

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "features.json"), "w") as f:
    json.dump({"numpy": np.__version__, "torch": torch.__version__, **fx}, f)
print("wrote", os.path.join(OUT, "features.json"), os.path.getsize(os.path.join(OUT, "features.json")), "bytes")
for c in fx["stft"]:
    print("torch.stft vs numpy", c["options"]["nFft"], c["torchVsNumpy"])
