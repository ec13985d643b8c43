"""Audio sources: one interface for files, arrays and the microphone.

A source yields int16 blocks shaped ``(samples, channels)`` at 16 kHz. Blocks may have any size;
everything downstream works in stream time (samples consumed ÷ sample rate), so block sizes never
change the result.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Iterator, Protocol

import numpy as np

from facilitator.errors import UserError
from facilitator.settings import SAMPLE_RATE_HZ


class AudioSource(Protocol):
    name: str  # a short id: the file name up to its first dot, or the device
    channels: int
    sample_rate_hz: int  # always SAMPLE_RATE_HZ after resampling

    def blocks(self) -> Iterator[np.ndarray]:
        """Yield int16 ``(samples, channels)`` blocks until the audio ends or ``stop()``."""

    def stop(self) -> None:
        """Ask ``blocks()`` to end soon (from another thread)."""


def uri_of(path: str | Path) -> str:
    """``open-2a.mics.flac`` → ``open-2a`` (the RTTM uri of a file)."""
    return Path(path).name.split(".", 1)[0]


def to_int16(block: np.ndarray) -> np.ndarray:
    """float [-1, 1] → int16 with clipping (no wrap-around on loud input)."""
    return np.clip(np.rint(block * 32768.0), -32768, 32767).astype(np.int16)


def downmix(block: np.ndarray) -> np.ndarray:
    """Average all channels into one (int16 in, int16 out)."""
    if block.shape[1] == 1:
        return block
    return block.mean(axis=1, dtype=np.float32, keepdims=True).astype(np.int16)


class Pacer:
    """Sleeps so that stream time runs at ``speed`` × wall time (``speed=None``: as fast as possible)."""

    def __init__(self, speed: float | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if speed is not None and speed <= 0:
            raise UserError(f"speed must be positive, not {speed:g}")
        self.speed = speed
        self.clock = clock
        self.sleep = sleep
        self._wall0: float | None = None

    def wait_until(self, stream_s: float) -> None:
        if self.speed is None:
            return
        now = self.clock()
        if self._wall0 is None:
            self._wall0 = now
        ahead_s = (self._wall0 + stream_s / self.speed) - now
        if ahead_s > 0:
            self.sleep(ahead_s)


class ArraySource:
    """An in-memory signal (for tests and generated audio)."""

    def __init__(self, samples: np.ndarray, name: str = "array", block_samples: int = 4800,
                 speed: float | None = None, clock=time.monotonic, sleep=time.sleep):
        samples = np.asarray(samples)
        if samples.ndim == 1:
            samples = samples[:, None]
        if samples.dtype != np.int16:
            samples = to_int16(samples.astype(np.float32))
        self.samples = samples
        self.name = name
        self.channels = samples.shape[1]
        self.sample_rate_hz = SAMPLE_RATE_HZ
        self.block_samples = block_samples
        self._pacer = Pacer(speed, clock, sleep)
        self._stopped = False

    def blocks(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self.samples), self.block_samples):
            if self._stopped:
                return
            block = self.samples[start:start + self.block_samples]
            self._pacer.wait_until((start + len(block)) / self.sample_rate_hz)
            yield block

    def stop(self) -> None:
        self._stopped = True


INT16_SAFE_SUBTYPES = {"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "ULAW", "ALAW"}


class FileSource:
    """WAV/FLAC/OGG read in blocks (constant memory), resampled to 16 kHz, every channel kept.

    ``speed=None`` replays instantly; a number paces the blocks at real time × speed, so the same
    file can stand in for a live microphone.
    """

    def __init__(self, path: str | Path, speed: float | None = None, mono: bool = False,
                 block_s: float | None = None, clock=time.monotonic, sleep=time.sleep):
        import soundfile

        self.path = Path(path)
        self.name = uri_of(self.path)
        if not self.path.exists():
            raise UserError(f"no such file: {self.path}")
        if self.path.is_dir():
            raise UserError(f"{self.path} is a directory, not an audio file")
        if not os.access(self.path, os.R_OK):
            raise UserError(f"cannot read {self.path}: permission denied")
        try:
            info = soundfile.info(str(self.path))
        except Exception as exc:  # libsndfile says "Format not recognised" and similar
            reason = str(exc).split(":")[-1].strip() or type(exc).__name__
            raise UserError(f"cannot read {self.path} as audio ({reason})") from None
        # libsndfile hands float data to an int16 read unscaled (0.3 → 0): only integer PCM may be
        # read as int16 directly; everything else is read as float and converted
        self._int16_ok = str(info.subtype) in INT16_SAFE_SUBTYPES
        if info.frames <= 0 or info.samplerate <= 0:
            raise UserError(f"{self.path} holds no audio")
        if info.channels > 16:
            raise UserError(f"{self.path} has {info.channels} channels; at most 16 are supported")
        self.input_rate_hz = int(info.samplerate)
        self.input_channels = int(info.channels)
        self.duration_s = info.frames / info.samplerate
        self.mono = mono
        self.channels = 1 if mono else self.input_channels
        self.sample_rate_hz = SAMPLE_RATE_HZ
        # paced replay hands over small blocks like a microphone does; instant replay larger ones
        self.block_s = block_s if block_s is not None else (0.1 if speed is not None else 2.0)
        self._pacer = Pacer(speed, clock, sleep)
        self._stopped = False

    def blocks(self) -> Iterator[np.ndarray]:
        import soundfile

        resampler = None
        if self.input_rate_hz != SAMPLE_RATE_HZ:
            import soxr

            resampler = soxr.ResampleStream(self.input_rate_hz, SAMPLE_RATE_HZ, self.input_channels,
                                            dtype="float32", quality="HQ")
        dtype = "int16" if resampler is None and self._int16_ok else "float32"
        blocksize = max(1, int(self.block_s * self.input_rate_hz))
        emitted = 0
        try:
            with soundfile.SoundFile(str(self.path)) as audio:
                while not self._stopped:
                    try:
                        chunk = audio.read(blocksize, dtype=dtype, always_2d=True)
                    except Exception as exc:
                        raise UserError(f"{self.path} is damaged after "
                                        f"{emitted / SAMPLE_RATE_HZ:.1f} s ({exc})") from None
                    last = len(chunk) < blocksize
                    if resampler is not None:
                        chunk = to_int16(resampler.resample_chunk(chunk, last=last))
                    elif dtype != "int16":
                        chunk = to_int16(chunk)
                    if self.mono:
                        chunk = downmix(chunk)
                    if len(chunk):
                        emitted += len(chunk)
                        self._pacer.wait_until(emitted / SAMPLE_RATE_HZ)
                        yield chunk
                    if last:
                        break
        except UserError:
            raise
        except Exception as exc:
            raise UserError(f"cannot read {self.path} ({exc})") from None

    def stop(self) -> None:
        self._stopped = True
