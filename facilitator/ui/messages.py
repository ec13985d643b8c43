"""Messages from the pipeline thread to the screens: small dataclasses, posted, never shared state."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class PipelineEvent(Message, bubble=False):
    """One journal event (speech, floor, turn, alert…) as the pipeline emitted it."""

    event: dict


@dataclass
class PipelineStatus(Message, bubble=False):
    """The pipeline's live figures (about ten a second); only the newest one matters."""

    snapshot: dict

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PipelineStatus)


@dataclass
class InputLevel(Message, bubble=False):
    """The set-up screen's microphone level in dBFS (several a second); only the newest matters."""

    level_dbfs: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, InputLevel)


@dataclass
class SessionFinished(Message, bubble=False):
    """The pipeline ended and the session files are written."""

    outcome: object  # facilitator.ui.session.SessionOutcome


@dataclass
class SessionFailed(Message, bubble=False):
    """The pipeline stopped with an error the people at the table should read."""

    error: str


@dataclass
class EnrollProgress(Message, bubble=False):
    """Enrollment recording: speech heard so far and the level (about ten a second); newest matters."""

    attempt: int  # which recording (a "try again" starts the next; older messages are ignored)
    speech_s: float
    target_s: float
    level_dbfs: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EnrollProgress)


@dataclass
class EnrollRecorded(Message, bubble=False):
    """The enrollment recording ended; the audio stays in memory until saved as numbers or discarded."""

    attempt: int
    audio: object  # numpy int16 array
    speech_s: float


@dataclass
class EnrollSaved(Message, bubble=False):
    """A voice profile was fitted and stored."""

    name: str
    speech_s: float


@dataclass
class EnrollFailed(Message, bubble=False):
    """Recording or fitting failed; ``error`` is one line for the person enrolling."""

    error: str


@dataclass
class InputLost(Message, bubble=False):
    """The microphone stopped sending audio; the session waits for a resume (r) or an end (e)."""

    error: str  # the source's own line (also journaled as a marker)
    saved: str | None  # where the session so far was written, or None if that failed
    save_error: str | None = None


@dataclass
class UnfinishedFound(Message, bubble=False):
    """Start-up: sessions that were cut short and can be recovered (newest first)."""

    sessions: list  # facilitator.recovery.Unfinished


@dataclass
class RecoveryDone(Message, bubble=False):
    """The recovery offered at start-up finished; one line per session (where its files went)."""

    lines: list[str]
    recovered: int
