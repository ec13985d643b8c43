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
