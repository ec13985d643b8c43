"""Speaker features: log-mel filterbank → MFCC (+ deltas), computed a whole block at a time.

A 25 ms Hamming window hops every 10 ms (three feature frames per 30 ms VAD frame); 24 mel bands
give 20 cepstra (c1…c20, c0 dropped so loudness does not decide who speaks) plus their deltas.
``FeatureStream`` carries the window overlap across blocks so a stream cut anywhere gives the
same features as the whole signal.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
WIN = 400  # 25 ms
HOP = 160  # 10 ms
NFFT = 512
N_MELS = 24
N_CEPS = 20
DELTA_K = 2  # delta regression over ±2 frames
FEATURE_DIM = 2 * N_CEPS


@lru_cache(maxsize=None)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    window = np.hamming(WIN).astype(np.float32)
    hz = np.linspace(0, SAMPLE_RATE / 2, NFFT // 2 + 1)

    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    edges_mel = np.linspace(mel(100.0), mel(7000.0), N_MELS + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    fb = np.zeros((NFFT // 2 + 1, N_MELS), np.float32)
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (hz - lo) / (mid - lo)
        down = (hi - hz) / (hi - mid)
        fb[:, m] = np.clip(np.minimum(up, down), 0.0, None)
    n = np.arange(N_MELS)
    dct = np.cos(np.pi / N_MELS * (n[:, None] + 0.5) * np.arange(1, N_CEPS + 1)[None, :])
    lifter = 1.0 + (22 / 2.0) * np.sin(np.pi * np.arange(1, N_CEPS + 1) / 22)
    return window, fb, (dct * lifter[None, :]).astype(np.float32)


def cepstra(samples: np.ndarray) -> np.ndarray:
    """MFCC c1…c20 of every full 25 ms window (hop 10 ms) in ``samples`` (float or int16)."""
    x = np.asarray(samples)
    x = x.astype(np.float32) / 32768.0 if x.dtype == np.int16 else x.astype(np.float32, copy=False)
    n = 0 if len(x) < WIN else 1 + (len(x) - WIN) // HOP
    if n == 0:
        return np.zeros((0, N_CEPS), np.float32)
    window, fb, dct = _tables()
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    frames = x[idx]
    frames = np.concatenate([frames[:, :1], frames[:, 1:] - 0.97 * frames[:, :-1]], axis=1)
    spec = np.abs(np.fft.rfft(frames * window, NFFT, axis=1)) ** 2
    logmel = np.log(spec.astype(np.float32) @ fb + 1e-8)
    return logmel @ dct


def deltas(ceps: np.ndarray) -> np.ndarray:
    """Regression deltas over ±2 frames (edges repeated)."""
    if len(ceps) == 0:
        return ceps
    pad = np.concatenate([ceps[:1].repeat(DELTA_K, 0), ceps, ceps[-1:].repeat(DELTA_K, 0)])
    num = sum(k * (pad[DELTA_K + k : len(pad) - DELTA_K + k] - pad[DELTA_K - k : len(pad) - DELTA_K - k]) for k in range(1, DELTA_K + 1))
    return num / (2 * sum(k * k for k in range(1, DELTA_K + 1)))


def sliding_mean(x: np.ndarray, span: int, prior: np.ndarray | None = None, prior_n: int = 0) -> np.ndarray:
    """Causal mean of the last ``span`` rows at each row (with an optional prior of ``prior_n`` rows)."""
    c = np.cumsum(np.concatenate([np.zeros((1, x.shape[1]), np.float64), x]), axis=0)
    i = np.arange(1, len(x) + 1)
    lo = np.maximum(i - span, 0)
    s = c[i] - c[lo]
    cnt = (i - lo).astype(np.float64)
    if prior is not None and prior_n:
        w = np.clip(span - cnt, 0, prior_n)
        s = s + w[:, None] * prior[None, :]
        cnt = cnt + w
    return (s / cnt[:, None]).astype(np.float32)


def utterance_features(samples: np.ndarray, speech: np.ndarray | None = None, cmn_span: int = 300) -> np.ndarray:
    """Features of one recording: MFCC+Δ of the speech frames, mean-normalised like the stream does.

    ``speech`` is an optional per-10 ms-frame bool mask; without it every frame counts.
    """
    c = cepstra(samples)
    f = np.concatenate([c, deltas(c)], axis=1)
    if speech is not None:
        f = f[speech[: len(f)]]
    if len(f) == 0:
        return f
    return (f - np.concatenate([sliding_mean(f[:, :N_CEPS], cmn_span), np.zeros((len(f), N_CEPS), np.float32)], axis=1)).astype(np.float32)
