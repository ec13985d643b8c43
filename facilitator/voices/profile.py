"""Voice profiles: a person's voice as a small Gaussian mixture over speaker features — numbers, never audio.

A profile holds a diagonal GMM (≤ 64 components over MFCC+Δ) fitted to the person's enrollment
speech and how many 10 ms frames it was fitted on. Profiles do not depend on any background model,
so they stay valid when a background model is added later. Files are ``NAME.npz`` in
``facilitator.paths.voices_dir()``, created 0600; ``background.npz`` (optional) is a larger GMM of
many other voices that sharpens identification and the ``unknown`` decision.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facilitator.errors import UserError
from facilitator.voices import features
from facilitator.voices.gmm import GMM, train_gmm

PROFILE_FORMAT = "facilitator.voice/1"
BACKGROUND_NAME = "background"
NAME_RE = re.compile(r"^[\w][\w .'-]{0,39}$")
MIN_SPEECH_S = 3.0


@dataclass
class VoiceProfile:
    name: str
    gmm: GMM
    n_frames: int  # 10 ms feature frames the GMM was fitted on

    @property
    def speech_s(self) -> float:
        return self.n_frames * features.HOP / features.SAMPLE_RATE


def check_name(name: str) -> str:
    name = name.strip()
    if not NAME_RE.match(name) or name.casefold() in ("unknown", BACKGROUND_NAME):
        raise UserError(f"{name!r} cannot be a voice name: use letters, digits, spaces, . ' - "
                        "(up to 40), and not 'unknown' or 'background'")
    return name


def speech_mask(samples: np.ndarray) -> np.ndarray:
    """10 ms frames that carry speech: webrtcvad (mode 1) and within 35 dB of the loudest frame."""
    x = np.asarray(samples)
    x = (x * 32767).astype(np.int16) if x.dtype != np.int16 else x
    n = 0 if len(x) < features.WIN else 1 + (len(x) - features.WIN) // features.HOP
    idx = np.arange(features.WIN)[None, :] + features.HOP * np.arange(n)[:, None]
    energy = 10 * np.log10(np.mean(x[idx].astype(np.float64) ** 2, axis=1) + 1.0)
    loud = energy > energy.max(initial=0.0) - 35.0
    try:
        import webrtcvad

        vad = webrtcvad.Vad(1)
        voiced = np.array([vad.is_speech(x[i * 480 : i * 480 + 480].tobytes(), 16000)
                           for i in range(len(x) // 480)], bool)
        per10 = np.repeat(voiced, 3)
        per10 = np.concatenate([per10, np.zeros(max(0, n - len(per10)), bool)])[:n]
        # a short hangover, so word edges are kept
        per10 = np.convolve(per10.astype(float), np.ones(9), "same") > 0
        return loud & per10
    except ImportError:  # pragma: no cover - webrtcvad is a hard dependency
        return loud


# Rooms the enrollment is copied into (RT60 s, direct-to-reverberant ratio dB, SNR dB): enrollment is
# usually read close to the laptop, the session is heard across a table, so the models must also
# know each voice as an echoing room renders it.
ROOMS = ((0.3, 3.0, 30.0), (0.4, 0.0, 28.0), (0.5, -3.0, 25.0))


def room_impulse(rt60_s: float, drr_db: float, seed: int) -> np.ndarray:
    """A synthetic room impulse response: a direct path, then exponentially decaying noise (−60 dB at RT60)."""
    rng = np.random.default_rng(seed)
    n = int(rt60_s * features.SAMPLE_RATE)
    t = np.arange(n) / features.SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s)
    tail[: int(0.002 * features.SAMPLE_RATE)] = 0.0  # first reflections arrive after ~2 ms
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    tail[0] = 1.0
    return tail


def reverberate(x: np.ndarray, rt60_s: float, drr_db: float, snr_db: float, seed: int = 0) -> np.ndarray:
    """``x`` as heard in a room with mild stationary noise (float, same length and speech level)."""
    from scipy.signal import fftconvolve

    x = np.asarray(x, np.float64)
    y = fftconvolve(x, room_impulse(rt60_s, drr_db, seed))[: len(x)]
    y *= np.sqrt(np.mean(x**2) / max(np.mean(y**2), 1e-12))
    noise = np.random.default_rng(seed + 1).standard_normal(len(y)) * np.sqrt(np.mean(y**2) * 10 ** (-snr_db / 10))
    return y + noise


def enroll(name: str, recordings: list[np.ndarray], n_components: int = 64, seed: int = 0,
           augment: bool = True) -> VoiceProfile:
    """Fit a profile to 16 kHz mono recordings (int16 or float in [-1, 1]).

    With ``augment`` the model is fitted to the recordings plus copies of them in synthetic rooms
    (:data:`ROOMS`); speech frames are chosen on the dry recording.
    """
    feats = []
    for i, x in enumerate(recordings):
        mask = speech_mask(x)
        feats.append(features.utterance_features(x, mask))
        if augment:
            xf = np.asarray(x, np.float64) / (32768.0 if np.asarray(x).dtype == np.int16 else 1.0)
            for j, (rt, drr, snr) in enumerate(ROOMS):
                feats.append(features.utterance_features(reverberate(xf, rt, drr, snr, seed=100 * i + j), mask))
    feats = [f for f in feats if len(f)]
    total = sum(len(f) for f in feats) // (1 + len(ROOMS) * augment)
    if total * features.HOP / features.SAMPLE_RATE < MIN_SPEECH_S:
        raise UserError(f"only {total / 100:.1f} s of speech found for {name}: enrollment needs at "
                        f"least {MIN_SPEECH_S:.0f} s (10–20 s is best)")
    x = np.concatenate(feats)
    return VoiceProfile(name, train_gmm(x, n_components=n_components, iterations=15, seed=seed), total)


def save(profile: VoiceProfile, directory: Path | None = None) -> Path:
    from facilitator.paths import open_private, voices_dir

    directory = directory or voices_dir()
    path = Path(directory) / f"{profile.name}.npz"
    tmp = path.with_suffix(".tmp")
    with open_private(tmp, "wb") as fh:
        np.savez(fh, format=np.array(PROFILE_FORMAT), name=np.array(profile.name),
                 n_frames=np.array(profile.n_frames), **profile.gmm.to_arrays())
    tmp.replace(path)
    return path


def load(path: Path) -> VoiceProfile:
    """Read one profile; a damaged or foreign file is one clear ``UserError``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != PROFILE_FORMAT:
                raise ValueError(f"format {str(data['format'])!r}")
            w, m, v = data["weights"], data["means"], data["variances"]
            name, n = str(data["name"]), int(data["n_frames"])
    except FileNotFoundError:
        raise UserError(f"no voice profile {path.stem!r} (enroll it with: facilitator enroll {path.stem} --from FILE)") from None
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile, EOFError) as exc:
        raise UserError(f"voice profile {path} is damaged ({exc.__class__.__name__}); "
                        f"forget it (facilitator voices --forget {path.stem}) and enroll again") from None
    k = len(w)
    if (m.ndim != 2 or m.shape != v.shape or m.shape[0] != k or m.shape[1] != features.FEATURE_DIM
            or not (np.isfinite(w).all() and np.isfinite(m).all() and np.isfinite(v).all())
            or (v <= 0).any() or (w < 0).any() or n <= 0):
        raise UserError(f"voice profile {path} is damaged (bad numbers); forget it "
                        f"(facilitator voices --forget {path.stem}) and enroll again")
    return VoiceProfile(name, GMM(w, m, v), n)


def profile_path(name: str, directory: Path | None = None) -> Path:
    from facilitator.paths import voices_dir

    return Path(directory or voices_dir()) / f"{name}.npz"


def stored_names(directory: Path | None = None) -> list[str]:
    from facilitator.paths import voices_dir

    d = Path(directory or voices_dir())
    return sorted(p.stem for p in d.glob("*.npz") if p.stem != BACKGROUND_NAME)


def read_audio(path: str | Path) -> np.ndarray:
    """A file as 16 kHz mono int16 (resampled and downmixed when needed)."""
    import soundfile as sf

    try:
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except FileNotFoundError:
        raise UserError(f"no such audio file: {path}") from None
    except (RuntimeError, sf.LibsndfileError) as exc:  # type: ignore[attr-defined]
        raise UserError(f"cannot read {path} as audio: {exc}") from None
    x = x.mean(axis=1)
    if sr != features.SAMPLE_RATE:
        import soxr

        x = soxr.resample(x, sr, features.SAMPLE_RATE)
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


def build_background(recordings: list[np.ndarray], n_components: int = 128, seed: int = 0) -> VoiceProfile:
    """A background model from many other people's speech (dozens of voices, a few seconds each)."""
    x = np.concatenate([f for r in recordings if len(f := features.utterance_features(r, speech_mask(r)))])
    if len(x) > 60000:
        x = x[np.random.default_rng(seed).choice(len(x), 60000, replace=False)]
    return VoiceProfile(BACKGROUND_NAME, train_gmm(x, n_components=n_components, iterations=10, seed=seed), len(x))
