"""Who is speaking: attributors turn VAD-decided frames into per-frame sets of active speakers.

An attributor takes frames in order and yields ``(frame_index, frozenset(names))`` in the same
order, possibly later (a voice model may need up to ~1 s of speech to decide). Live and replay feed
exactly the same frames, so the result does not depend on block sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

import numpy as np

UNKNOWN = "unknown"
Activity = tuple[int, frozenset]


@dataclass(frozen=True)
class DecidedFrames:
    """A run of consecutive frames whose speech/non-speech decision is final."""

    start_index: int  # index of the first frame since the stream began
    frame_s: float  # frame duration (0.03 for 30 ms)
    speech: np.ndarray  # (n, channels) bool, smoothed VAD decision per channel
    energy_db: np.ndarray  # (n, channels) float32, frame energy in dBFS
    pcm: np.ndarray  # (n, channels, frame_len) int16 audio of each frame

    def __len__(self) -> int:
        return self.speech.shape[0]


class Attributor(Protocol):
    """Maps decided frames to speaker names."""

    speakers: list[str]  # names known at the start (``unknown`` may appear later)

    def push(self, frames: DecidedFrames) -> Iterator[Activity]:
        """Consume frames; yield finished ``(frame_index, active names)`` in frame order."""

    def flush(self) -> Iterator[Activity]:
        """End of stream: yield everything still held back."""

    def on_event(self, event: dict) -> None:
        """Hear the tracker's events (e.g. ``turn_start`` tells who holds a protected turn)."""


class _FrozenCache:
    """Reuses one frozenset per combination, so the tracker's "same as before?" test is cheap."""

    def __init__(self, names: list[str]):
        self.names = names
        self._by_mask: dict[int, frozenset] = {}

    def __call__(self, mask: int) -> frozenset:
        found = self._by_mask.get(mask)
        if found is None:
            found = frozenset(n for i, n in enumerate(self.names) if mask >> i & 1)
            self._by_mask[mask] = found
        return found


class _MaskAttributor:
    """Attributors that decide each frame from its own channel flags: a bit mask per frame."""

    speakers: list[str]

    def _masks(self, frames: DecidedFrames) -> list[int]:
        raise NotImplementedError

    def push(self, frames: DecidedFrames) -> Iterator[Activity]:
        cache = self._cache
        for offset, mask in enumerate(self._masks(frames)):
            yield frames.start_index + offset, cache(mask)

    def flush(self) -> Iterator[Activity]:
        return iter(())

    def on_event(self, event: dict) -> None:
        pass


class SoloAttributor(_MaskAttributor):
    """One microphone, one unnamed speaker (or everyone as one): speech is credited to ``name``."""

    def __init__(self, name: str = "speaker"):
        self.speakers = [name]
        self._cache = _FrozenCache([name])

    def _masks(self, frames: DecidedFrames) -> list[int]:
        return frames.speech.any(axis=1).astype(np.int64).tolist()


class ChannelAttributor(_MaskAttributor):
    """One microphone per person: channel c is person c.

    Crosstalk (another person's voice leaking into this mic, typically −18 dB) is already rejected
    before smoothing by the detector's level comparison across channels; two channels both clearly
    loud are two people talking at once (overlap).
    """

    def __init__(self, names: list[str]):
        self.speakers = list(names)
        self._cache = _FrozenCache(self.speakers)
        self._weights = (1 << np.arange(len(names), dtype=np.int64))

    def _masks(self, frames: DecidedFrames) -> list[int]:
        return (frames.speech.astype(np.int64) @ self._weights).tolist()


class ManualAttributor(SoloAttributor):
    """Manual mode: the VAD measures speech, a key press says whose it is.

    Speech is ``unknown`` until the pipeline's override (a key) names the speaker; ``speakers`` keeps
    every name so the round-robin order is known.
    """

    def __init__(self, names: list[str]):
        super().__init__(UNKNOWN)
        self.speakers = list(names)
