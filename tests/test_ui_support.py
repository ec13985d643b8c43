"""Helpers for the app's tests: a source the test feeds second by second, and a wait for it."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FIXED_NOW = datetime(2026, 11, 23, 18, 45, tzinfo=timezone.utc)


def sample(name: str, mono: bool = False) -> np.ndarray:
    audio, rate = sf.read(str(SAMPLES / name), dtype="int16", always_2d=True)
    assert rate == 16000
    if mono and audio.shape[1] > 1:
        audio = audio.mean(axis=1, keepdims=True).astype(np.int16)
    return audio


class SteppedSource:
    """An array source whose stream time moves only when the test says so (a controlled clock).

    ``release(until_s)`` lets the pipeline read up to ``until_s``; when it has read all it may, the
    source waits (like a quiet microphone between blocks) and ``idle`` is set — by then the
    pipeline has processed and posted everything before.
    """

    def __init__(self, samples: np.ndarray, name: str = "array", block_s: float = 0.1):
        self.samples = samples if samples.ndim == 2 else samples[:, None]
        self.name = name
        self.channels = self.samples.shape[1]
        self.sample_rate_hz = 16000
        self.block = int(block_s * 16000)
        self._allowed = 0
        self._read = 0
        self._cond = threading.Condition()
        self._stopped = False
        self.idle = threading.Event()

    def release(self, until_s: float) -> None:
        with self._cond:
            self._allowed = min(len(self.samples), int(round(until_s * 16000)))
            self.idle.clear()
            self._cond.notify_all()

    def blocks(self):
        while True:
            with self._cond:
                while self._read >= self._allowed and not self._stopped:
                    if self._read >= len(self.samples):
                        self.idle.set()
                        return
                    self.idle.set()
                    self._cond.wait(0.5)
                if self._stopped:
                    return
                start = self._read
                self._read = min(self._allowed, start + self.block)
            yield self.samples[start:self._read]

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()


async def run_until_idle(pilot, source: SteppedSource, until_s: float, timeout_s: float = 20.0) -> None:
    """Release the source up to ``until_s`` and wait until the screen has shown all of it."""
    import asyncio
    import time

    source.release(until_s)
    await asyncio.sleep(0.05)
    deadline = time.monotonic() + timeout_s
    while not source.idle.is_set():
        assert time.monotonic() < deadline, "the pipeline did not consume the released audio"
        await pilot.pause(0.05)
    for _ in range(3):
        await pilot.pause()
    await pilot.pause(0.05)
    await pilot.pause()


def stepped_app(samples: np.ndarray, size_hint: str = "array", **plan_changes):
    """An app (no set-up screen) on a stepped source; returns ``(app, source)``."""
    from facilitator.ui import SessionPlan, make_app

    source = SteppedSource(samples, name=size_hint)
    plan = SessionPlan(**{"names": ["Alex", "Sam"], "protocol": "round-robin", "turn_s": 300.0,
                          "mode": "channels", "history": False, "source_label": "open-2.mics.flac",
                          "session_id": "20261123-184500-test", **plan_changes})
    app = make_app(plan, source_factory=lambda plan: source, show_setup=False, clock_now=lambda: FIXED_NOW)
    return app, source
