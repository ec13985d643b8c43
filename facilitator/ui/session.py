"""A live session without the screen: plan → pipeline on its own thread → session files.

This module never imports Textual, so the pipeline thread that runs it never touches the UI; it
only calls the ``on_event``/``on_status`` callbacks it is given (the UI passes functions that post
messages). The session directory, journal and summary files are made with the same functions as
``facilitator replay``, so the app writes exactly what a replay writes.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from facilitator.attribution import ManualAttributor
from facilitator.errors import UserError
from facilitator.settings import settings_from

PROTOCOLS = {
    "open": "open conversation",
    "round-robin": "round-robin protected turns",
    "speaker-listener": "speaker–listener (paraphrase before the roles switch)",
}
MODES = {
    "channels": "one microphone per person",
    "voices": "shared microphone, enrolled voices",
    "manual": "manual (keys 1–8 say who has the floor)",
    "solo": "one voice, unnamed",
}


@dataclass
class SessionPlan:
    """Everything the set-up screen decides; the live screen runs it."""

    names: list[str] = field(default_factory=lambda: ["Alex", "Sam"])
    protocol: str = "round-robin"  # open | round-robin | speaker-listener
    turn_s: float = 300.0
    mode: str = "channels"  # channels | voices | manual | solo
    preset: str = "default"
    auto_advance: bool = True
    bell: bool = False
    device: str | int | None = None
    record_path: str | None = None  # None: no audio is kept
    out_dir: str | None = None
    history: bool = True
    source_label: str | None = None  # shown in the header ("microphone", "open-2.mics.flac")
    session_id: str | None = None  # fixed for tests; default: time + source name
    replay_file: str | None = None  # a stored recording stands in for the microphone
    speed: float | None = 1.0  # replay pace (× real time); None = as fast as possible

    @property
    def replay(self) -> bool:
        return self.replay_file is not None

    @property
    def pipeline_protocol(self) -> str:
        return "open" if self.protocol == "open" else "round-robin"

    def settings(self):
        auto_advance = self.auto_advance and self.protocol != "speaker-listener"
        return settings_from(self.preset, protocol=self.pipeline_protocol, turn_s=self.turn_s,
                             auto_advance=auto_advance)

    def with_changes(self, **changes) -> "SessionPlan":
        return replace(self, **changes)


@dataclass
class SessionOutcome:
    summary: dict
    session_dir: Path
    files: list[str]
    overflows: int = 0


def voices_available() -> bool:
    try:
        from facilitator.voices import make_attributor  # noqa: F401
    except ImportError:
        return False
    return True


def make_attributor(plan: SessionPlan, channels: int, settings=None):
    if plan.mode == "manual":
        return ManualAttributor(plan.names)
    if plan.mode == "voices":
        try:
            from facilitator.voices import make_attributor as make_voices, resolve_profiles
        except ImportError:
            raise UserError("shared-mic mode (enrolled voices) is not installed; use one mic "
                            "per person or manual mode") from None
        # stored voices are reused; a person without one is learnt from their protected turns
        return make_voices("voices", plan.names, resolve_profiles(plan.names), settings=settings)
    from facilitator.commands.replay import build_attributor

    return build_attributor(plan.mode, plan.names, channels)


class PausableSource:
    """Wraps a source so the session can pause: stream time stops while paused.

    A live microphone keeps being read (its buffer must not overflow) but the audio is dropped; a
    file waits, and its pacing clock is moved on by the pause so it does not rush to catch up.
    """

    def __init__(self, inner, live: bool):
        self.inner = inner
        self.live = live
        self.name = inner.name
        self.channels = inner.channels
        self.sample_rate_hz = inner.sample_rate_hz
        self._resume = threading.Event()
        self._resume.set()
        self._stopped = False

    @property
    def overflows(self) -> int:
        return getattr(self.inner, "overflows", 0)

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def blocks(self) -> Iterator[np.ndarray]:
        for block in self.inner.blocks():
            if not self._resume.is_set():
                if self.live:
                    continue
                paused_at = time.monotonic()
                while not self._resume.wait(0.2):
                    if self._stopped:
                        return
                pacer = getattr(self.inner, "_pacer", None)
                if pacer is not None and getattr(pacer, "_wall0", None) is not None:
                    pacer._wall0 += time.monotonic() - paused_at
            if self._stopped:
                return
            yield block

    def stop(self) -> None:
        self._stopped = True
        self._resume.set()
        self.inner.stop()


def default_source(plan: SessionPlan):
    """The microphone, or the replayed file; channels mode reads one channel per person."""
    if plan.replay:
        from facilitator.sources import FileSource

        return FileSource(plan.replay_file, speed=plan.speed, mono=(plan.mode != "channels"))
    from facilitator.microphone import MicrophoneSource

    channels = len(plan.names) if plan.mode == "channels" else 1
    return MicrophoneSource(plan.device, channels=channels, record_path=plan.record_path)


class LiveSession:
    """Builds the pipeline for a plan and runs it (call ``run`` on a worker thread)."""

    def __init__(self, plan: SessionPlan, source, on_event: Callable[[dict], None],
                 on_status: Callable[[dict], None], status_every_s: float = 0.1,
                 clock_now: Callable[[], datetime] | None = None,
                 on_lost: Callable[[str, str | None, str | None], None] | None = None):
        from facilitator.journal import JournalWriter
        from facilitator.pipeline import Pipeline
        from facilitator.session_files import make_session_dir, new_session_id

        self.plan = plan
        settings = plan.settings()
        live = not plan.replay
        self.source = PausableSource(source, live=live)
        attributor = make_attributor(plan, source.channels, settings)
        if settings.protocol == "round-robin" and len(attributor.speakers) < 2:
            raise UserError("round-robin needs at least two people")
        now = (clock_now or (lambda: datetime.now(timezone.utc)))()
        self.session_id = plan.session_id or new_session_id(source.name, now)
        self.session_dir = make_session_dir(plan.out_dir, self.session_id)
        self.journal = JournalWriter(self.session_dir / "events.jsonl")
        self.pipeline = Pipeline(self.source, attributor, settings, sinks=[self.journal, on_event],
                                 session_id=self.session_id, mode=plan.mode,
                                 crosstalk_rejection=(plan.mode == "channels"),
                                 source_label=plan.source_label or source.name,
                                 clock_now=lambda: now, status=on_status,
                                 status_every_s=status_every_s)
        self.uri = source.name
        self.done = threading.Event()  # set once run() has returned or failed
        # lost input: on_lost(error, saved_dir, save_error) is called on the pipeline thread, which
        # then waits for a decision: ("resume", source) from resume_input or ("end", None) from stop
        self.on_lost = on_lost
        self.lost: str | None = None  # the lost input's error line while waiting for a decision
        self._decisions: queue.Queue = queue.Queue()
        self._lock = threading.Lock()

    def request(self, action: str, *args) -> None:
        self.pipeline.request(action, *args)

    def pause(self) -> None:
        self.source.pause()

    def resume(self) -> None:
        self.source.resume()

    @property
    def paused(self) -> bool:
        return self.source.paused

    def stop(self) -> None:
        """End the session soon (from any thread): the pipeline finishes and writes its files.

        Also ends a session whose input was lost (it is finished from what was counted)."""
        self._decisions.put(("end", None))  # only read while the input is lost
        self.source.resume()
        self.pipeline.request("stop")
        self.source.inner.stop()

    def resume_input(self, source) -> None:
        """After a lost input: go on with ``source`` (the same device again, or another one).

        Called from the UI thread; a source that cannot carry on this session is refused here with
        one clear line (``UserError``) and the session keeps waiting.
        """
        with self._lock:
            if self.lost is None:
                raise UserError("the input is not lost; nothing to resume")
            if source.channels != self.source.channels:
                raise UserError(f"the new input has {source.channels} channel(s); this session needs "
                                f"{self.source.channels}")
            self.lost = None
            self.source = PausableSource(source, live=not self.plan.replay)
            self._decisions.put(("resume", self.source))

    def _wait_after_loss(self, error: Exception):
        """The input was lost: keep the session so far on disk, tell the UI, wait for r or e.

        Returns the final result if the session is ended here, or None once resumed."""
        from facilitator.recovery import save_so_far

        saved = save_error = None
        try:
            save_so_far(self.pipeline, self.session_dir, self.uri)
            saved = str(self.session_dir)
        except UserError as exc:
            save_error = str(exc)
        except OSError as exc:
            save_error = f"cannot write the session so far to {self.session_dir}: {exc.strerror or exc}"
        with self._lock:
            self.lost = str(error)
        if self.on_lost is not None:
            self.on_lost(str(error), saved, save_error)
        action, source = self._decisions.get()
        if action == "end":
            with self._lock:
                self.lost = None
            return self._finish_without_input()
        self.pipeline.resume(source)
        return None

    def _finish_without_input(self):
        """End the session from what was counted: the pipeline flushes and closes its turns, as at
        the end of a source (the lost source's dropped-audio count is kept)."""
        self.pipeline.source = _NoInput(self.pipeline.source)
        self.pipeline.lost = None
        return self.pipeline.run()

    def run(self) -> SessionOutcome:
        """Blocking: process the source to its end (or ``stop``), then write the session files.

        A lost microphone (``DeviceLost``) does not end the session: the figures so far are saved,
        ``on_lost`` is told, and the session waits for :meth:`resume_input` or :meth:`stop`.
        """
        from facilitator.microphone import DeviceLost
        from facilitator.session_files import close_session

        try:
            try:
                result = None
                while result is None:
                    try:
                        result = self.pipeline.run()
                    except DeviceLost as exc:
                        result = self._wait_after_loss(exc)
            finally:
                self.journal.close()
            summary = close_session(self.session_dir, result.ledger, result.duration_s, self.uri,
                                    history=self.plan.history)
            files = sorted(p.name for p in self.session_dir.iterdir() if not p.name.startswith("."))
            return SessionOutcome(summary, self.session_dir, files, result.overflows)
        finally:
            self.done.set()


class _NoInput:
    """Stands in for a lost source when the session is ended without it: no more audio."""

    def __init__(self, lost):
        self.name = lost.name
        self.channels = lost.channels
        self.sample_rate_hz = lost.sample_rate_hz
        self.overflows = getattr(lost, "overflows", 0)

    def blocks(self) -> Iterator[np.ndarray]:
        return iter(())

    def stop(self) -> None:
        pass


def microphone_levels(device, stop: threading.Event, report: Callable[[float], None],
                      every_s: float = 0.1) -> None:
    """Read ``device`` until ``stop`` is set; ``report(dBFS)`` of the loudest 100 ms every ``every_s``."""
    from facilitator.microphone import MicrophoneSource

    source = MicrophoneSource(device, channels=1)
    peak = 0.0
    counted = 0
    need = int(source.sample_rate_hz * every_s)
    for block in source.blocks():
        if stop.is_set():
            source.stop()
            break
        x = block.astype(np.float32) / 32768.0
        peak = max(peak, float(np.sqrt(np.mean(x * x))) if len(x) else 0.0)
        counted += len(block)
        if counted >= need:
            report(20.0 * np.log10(max(peak, 1e-5)))
            peak, counted = 0.0, 0
