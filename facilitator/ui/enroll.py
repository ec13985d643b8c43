"""Enrollment for shared-mic mode: one person reads a short text aloud and their voice is learnt.

The recording runs on a thread worker that only posts messages (``EnrollProgress``, ``EnrollRecorded``,
``EnrollFailed``); the recording itself is ``facilitator.voices.recording.record``, which knows nothing
of Textual. Progress counts detected speech, so pauses do not fill the bar. "That was clear" fits the
profile (on a worker: a second or two) and stores its numbers; "try again" drops the audio. Audio is
only ever held in memory.
"""

from __future__ import annotations

import threading
from typing import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, ProgressBar, Static

from facilitator.errors import UserError
from facilitator.ui.messages import EnrollFailed, EnrollProgress, EnrollRecorded, EnrollSaved

MAX_RECORDING_S = 90.0  # give up listening after this long, however little speech was heard
ENOUGH_SPEECH_S = 8.0  # a recording that ended early may still be kept with this much speech


def default_enroll_source(device):
    """The chosen microphone, one channel."""
    from facilitator.microphone import MicrophoneSource

    return MicrophoneSource(device, channels=1)


def level_meter(db: float) -> Text:
    """``▮▮▮▮····· -23 dB``: green, yellow when loud, red near clipping; "no input" for NaN."""
    if db != db:
        return Text("no input", style="red")
    cells = max(0, min(16, int((db + 70) / 70 * 16)))
    colour = "green" if db < -12 else "yellow" if db < -3 else "red"
    text = Text("▮" * cells, style=colour)
    text.append("·" * (16 - cells), style="dim")
    text.append(f" {db:4.0f} dB")
    return text


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else error.__class__.__name__


class EnrollScreen(Screen[str | None]):
    """Learn one person's voice; dismissed with their name once stored, or ``None`` if cancelled."""

    BINDINGS = [Binding("escape", "cancel", "back to set-up")]

    DEFAULT_CSS = """
    EnrollScreen { layout: vertical; }
    #enroll-title { height: 1; background: $panel; padding: 0 1; text-style: bold; }
    #enroll-body { padding: 1 2; height: 1fr; }
    #enroll-ask { margin-bottom: 1; }
    #enroll-text { border: round $accent; padding: 0 1; margin-bottom: 1; height: auto; }
    .enroll-row { height: 1; margin-bottom: 1; }
    .enroll-row > Label { width: 10; color: $text-muted; }
    #enroll-progress { width: auto; }
    #enroll-speech { width: 1fr; padding: 0 0 0 2; }
    #enroll-status { height: auto; margin-bottom: 1; }
    #enroll-status.error { color: $error; text-style: bold; }
    #enroll-buttons { height: 1; }
    #enroll-buttons > Button { margin-right: 2; }
    #enroll-privacy { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, name: str, device=None, source_factory: Callable | None = None,
                 target_s: float | None = None, max_s: float = MAX_RECORDING_S):
        from facilitator.voices.recording import SPEECH_TARGET_S

        super().__init__()
        self.person = name
        self.device = device
        self.source_factory = source_factory or default_enroll_source
        self.target_s = target_s or SPEECH_TARGET_S
        self.max_s = max_s
        self.attempt = 0
        self.audio = None  # the finished recording (memory only)
        self.speech_s = 0.0
        self.saving = False
        self._stop = threading.Event()
        self._source = None

    def compose(self) -> ComposeResult:
        from facilitator.voices.recording import READ_ALOUD

        yield Static(f"facilitator · learn {self.person}'s voice", id="enroll-title")
        with Vertical(id="enroll-body"):
            yield Static(f"{self.person}, please read this aloud at your usual pace, near the microphone:",
                         id="enroll-ask")
            yield Static(READ_ALOUD, id="enroll-text")
            with Horizontal(classes="enroll-row"):
                yield Label("Speech")
                yield ProgressBar(total=self.target_s, show_eta=False, id="enroll-progress")
                yield Static("", id="enroll-speech")
            with Horizontal(classes="enroll-row"):
                yield Label("Level")
                yield Static("–", id="enroll-level")
            yield Static("", id="enroll-status")
            with Horizontal(id="enroll-buttons"):
                yield Button("That was clear", id="enroll-clear", variant="success", compact=True,
                             disabled=True)
                yield Button("Try again", id="enroll-again", compact=True)
                yield Button("Cancel", id="enroll-cancel", compact=True)
            yield Static("Only numbers that describe the voice are stored; the recording is not kept.",
                         id="enroll-privacy")
        yield Footer()

    def on_mount(self) -> None:
        self._start()

    def on_unmount(self) -> None:
        self._halt()

    # ------------------------------------------------------ recording
    def _start(self) -> None:
        self._halt()
        self.attempt += 1
        self.audio, self.speech_s = None, 0.0
        self._stop = threading.Event()
        self.query_one("#enroll-clear", Button).disabled = True
        self.query_one("#enroll-again", Button).disabled = False
        self.query_one("#enroll-progress", ProgressBar).update(progress=0)
        self._show_speech(0.0)
        self._status("Listening… start reading whenever you are ready.")
        self._record(self.attempt, self._stop)

    def _halt(self) -> None:
        self._stop.set()
        source = self._source
        if source is not None:
            source.stop()

    @work(thread=True, group="enroll-record", exit_on_error=False)
    def _record(self, attempt: int, stop: threading.Event) -> None:
        from facilitator.voices.recording import record

        heard = [0.0]

        def progress(p) -> None:
            heard[0] = p.speech_s
            self.post_message(EnrollProgress(attempt, p.speech_s, self.target_s, p.level_dbfs))

        try:
            source = self.source_factory(self.device)
            self._source = source
            if stop.is_set():
                source.stop()
                return
            audio = record(source, speech_target_s=self.target_s, max_s=self.max_s,
                           on_progress=progress, stop=stop)
        except Exception as exc:  # no device, device lost, PortAudio missing…
            reason = one_line(exc) if isinstance(exc, UserError) else f"recording failed: {one_line(exc)}"
            self.post_message(EnrollFailed(reason))
            return
        if not stop.is_set():
            self.post_message(EnrollRecorded(attempt, audio, heard[0]))

    @on(EnrollProgress)
    def _on_progress(self, message: EnrollProgress) -> None:
        if message.attempt != self.attempt:
            return
        self.speech_s = message.speech_s
        self.query_one("#enroll-progress", ProgressBar).update(progress=min(message.speech_s, self.target_s))
        self._show_speech(message.speech_s)
        self.query_one("#enroll-level", Static).update(level_meter(message.level_dbfs))

    @on(EnrollRecorded)
    def _on_recorded(self, message: EnrollRecorded) -> None:
        if message.attempt != self.attempt:
            return
        self.audio = message.audio
        self.speech_s = message.speech_s
        self.query_one("#enroll-level", Static).update("–")
        if self.speech_s >= self.target_s:
            self._status(f"Done. Was that clear, {self.person}? Keep it, or try again.")
            self.query_one("#enroll-clear", Button).disabled = False
        elif self.speech_s >= ENOUGH_SPEECH_S:
            self._status(f"Stopped with {self.speech_s:.0f} s of speech: enough to keep, more is better.")
            self.query_one("#enroll-clear", Button).disabled = False
        else:
            self._status(f"Only {self.speech_s:.0f} s of speech heard: try again, a little closer to the "
                         "microphone.", error=True)
        keep = self.query_one("#enroll-clear", Button)
        (self.query_one("#enroll-again", Button) if keep.disabled else keep).focus()

    @on(EnrollFailed)
    def _on_failed(self, message: EnrollFailed) -> None:
        self.saving = False
        self.query_one("#enroll-level", Static).update(Text("no input", style="red"))
        self.query_one("#enroll-clear", Button).disabled = True
        self.query_one("#enroll-again", Button).disabled = False
        self._status(message.error, error=True)

    # -------------------------------------------------------- buttons
    @on(Button.Pressed, "#enroll-clear")
    def action_keep(self) -> None:
        if self.audio is None or self.saving:
            return
        self.saving = True
        self.query_one("#enroll-clear", Button).disabled = True
        self.query_one("#enroll-again", Button).disabled = True
        self._status(f"Learning {self.person}'s voice…")
        audio, self.audio = self.audio, None
        self._fit(self.person, audio)

    @work(thread=True, group="enroll-fit", exit_on_error=False)
    def _fit(self, name: str, audio) -> None:
        from facilitator.voices import profile

        try:
            prof = profile.enroll(name, [audio])
            profile.save(prof)
        except Exception as exc:
            self.post_message(EnrollFailed(one_line(exc)))
            return
        self.post_message(EnrollSaved(name, prof.speech_s))

    @on(EnrollSaved)
    def _on_saved(self, message: EnrollSaved) -> None:
        self.saving = False
        self.app.notify(f"{message.name}'s voice is stored ({message.speech_s:.0f} s of speech)")
        self.dismiss(message.name)

    @on(Button.Pressed, "#enroll-again")
    def action_again(self) -> None:
        if not self.saving:
            self._start()  # the previous audio is dropped

    @on(Button.Pressed, "#enroll-cancel")
    def action_cancel(self) -> None:
        if self.saving:
            return
        self._halt()
        self.audio = None
        self.dismiss(None)

    # --------------------------------------------------------- helpers
    def _show_speech(self, speech_s: float) -> None:
        self.query_one("#enroll-speech", Static).update(
            f"{min(speech_s, self.target_s):4.1f} of {self.target_s:.0f} s of speech")

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#enroll-status", Static)
        status.update(text)
        status.set_class(error, "error")
