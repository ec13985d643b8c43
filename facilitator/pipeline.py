"""One pipeline for live and replay: source → frames/VAD → attributor → FloorTracker → sinks.

Everything is driven by stream time. Requests from another thread (a key press in the UI) are queued
and applied between blocks, so the tracker only ever runs on the pipeline's own thread.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

from facilitator.attribution import Attributor
from facilitator.errors import UserError
from facilitator.ledger import EVENTS_FORMAT, Ledger
from facilitator.settings import SAMPLE_RATE_HZ, Settings
from facilitator.sources import AudioSource
from facilitator.tracker import FloorTracker
from facilitator.vad import SpeechDetector

Sink = Callable[[dict], None]


@dataclass
class PipelineResult:
    ledger: Ledger
    duration_s: float
    overflows: int = 0

    def summary(self) -> dict:
        return self.ledger.summary(self.duration_s)


class Pipeline:
    def __init__(self, source: AudioSource, attributor: Attributor, settings: Settings,
                 sinks: Iterable[Sink] = (), session_id: str = "session", mode: str = "solo",
                 crosstalk_rejection: bool = False, source_label: str | None = None,
                 clock_now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 status: Callable[[dict], None] | None = None, status_every_s: float = 0.1):
        self.source = source
        self.attributor = attributor
        self.settings = settings
        self.ledger = Ledger()
        self.sinks: list[Sink] = [self.ledger.apply, *sinks, attributor.on_event]
        self.detector = SpeechDetector(source.channels, settings, crosstalk_rejection=crosstalk_rejection)
        self._deferred: list[dict] = []  # events raised before session_start went out
        self._started = False
        self.tracker = FloorTracker(list(attributor.speakers), settings, self._emit_deferred)
        self.session_id = session_id
        self.mode = mode
        self.source_label = source_label or source.name
        self.clock_now = clock_now
        self._requests: queue.Queue = queue.Queue()
        self._override: frozenset | None = None
        self.samples_in = 0
        self.status = status  # called on the pipeline thread with live figures
        self.status_every_s = status_every_s
        self.lost: Exception | None = None  # the source's error, until resume()
        self._overflows_before = 0  # overflows of the sources used before resume()

    # ------------------------------------------------------------ events
    def _emit(self, event: dict) -> None:
        for sink in self.sinks:
            sink(event)

    def _emit_deferred(self, event: dict) -> None:
        if self._started:
            self._emit(event)
        else:
            self._deferred.append(event)

    def _start(self) -> None:
        self._emit({
            "kind": "session_start", "t_s": 0.0, "format": EVENTS_FORMAT, "id": self.session_id,
            "source": self.source_label, "mode": self.mode, "protocol": self.settings.protocol,
            "speakers": list(self.attributor.speakers),
            "started_at": self.clock_now().isoformat(timespec="seconds"),
            "settings": self.settings.to_dict(),
        })
        self._started = True
        for event in self._deferred:
            self._emit(event)
        self._deferred.clear()

    # ---------------------------------------------------- thread-safe requests
    def request(self, action: str, *args) -> None:
        """Queue ``pass_floor``, ``give_back``, ``override`` (name or None), ``mark`` (note) or ``stop``."""
        self._requests.put((action, args))

    def _apply_requests(self) -> bool:
        keep_going = True
        while True:
            try:
                action, args = self._requests.get_nowait()
            except queue.Empty:
                return keep_going
            t_s = self.tracker.now_s
            if action == "pass_floor":
                self.tracker.pass_floor()
            elif action == "give_back":
                self.tracker.give_back(*args)
            elif action == "override":
                name = args[0] if args else None
                self._override = None if name is None else frozenset([name])
                self._emit({"kind": "speaker_override", "t_s": t_s, "speaker": name})
            elif action == "mark":
                self._emit({"kind": "marker", "t_s": t_s, "note": args[0] if args else ""})
            elif action == "stop":
                self.source.stop()
                keep_going = False

    # --------------------------------------------------------------- run
    def run(self, progress: Callable[[float], None] | None = None) -> PipelineResult:
        """Process the whole source; ``progress(stream_s)`` is called after each block.

        If the source fails (``UserError``, e.g. ``microphone.DeviceLost``) the error is journaled as
        a ``marker`` and raised; the session's state is kept, so after :meth:`resume` a new call
        goes on with the same counts and stream time.
        """
        if not self._started:
            self._start()
        step = self.tracker.step
        next_status_s = 0.0
        try:
            for block in self.source.blocks():
                self.samples_in += len(block)
                decided = self.detector.push(block)
                if decided is not None:
                    self._feed(self.attributor.push(decided), step)
                if not self._requests.empty() and not self._apply_requests():
                    break
                if progress is not None:
                    progress(self.samples_in / SAMPLE_RATE_HZ)
                if self.status is not None and self.tracker.now_s >= next_status_s:
                    next_status_s = self.tracker.now_s + self.status_every_s
                    self.status(self.snapshot())
        except UserError as exc:
            self.lost = exc
            self._emit({"kind": "input_lost", "t_s": self.tracker.now_s, "note": f"input lost: {exc}"})
            raise
        decided = self.detector.flush()
        if decided is not None:
            self._feed(self.attributor.push(decided), step)
        self._feed(self.attributor.flush(), step)
        duration_s = self.samples_in / SAMPLE_RATE_HZ
        self.tracker.finish(duration_s)
        return PipelineResult(self.ledger, duration_s, self.overflows)

    def resume(self, source: AudioSource) -> None:
        """Go on after the source failed, with ``source`` (the same device again, or another one).

        Counts, turns and stream time continue where they stopped (the time without input is not
        session time); call :meth:`run` again afterwards. The new source needs the same channels.
        """
        if source.channels != self.source.channels:
            raise UserError(f"the new input has {source.channels} channel(s); this session needs "
                            f"{self.source.channels}")
        self._overflows_before += getattr(self.source, "overflows", 0)
        self.source = source
        self.lost = None
        self._emit({"kind": "input_resumed", "t_s": self.tracker.now_s,
                    "note": f"input resumed: {source.name}"})

    @property
    def overflows(self) -> int:
        """Input overflows (audio the device dropped) over all the session's sources."""
        return self._overflows_before + getattr(self.source, "overflows", 0)

    def snapshot(self) -> dict:
        """Live figures (tracker state plus counts so far); call on the pipeline thread."""
        snap = self.tracker.snapshot()
        snap["overflows"] = self.overflows
        snap["override"] = next(iter(self._override)) if self._override else None
        return snap

    def _feed(self, activity, step) -> None:
        override = self._override
        if override is None:
            for index, active in activity:
                step(index, active)
        else:
            empty = frozenset()
            for index, active in activity:
                step(index, override if active else empty)
