"""Start-up offer to recover sessions that were cut short (crash, kill, power loss).

The app looks for them on a thread worker when the set-up screen opens; if there are any, this
modal lists a few. Recover folds their journals on a thread worker (``facilitator.recovery.recover``)
and shows where the files went; Not now closes the modal and leaves them for later
(``facilitator recover`` or the next start).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from facilitator.errors import UserError
from facilitator.ui.format import mmss
from facilitator.ui.messages import RecoveryDone

MAX_LISTED = 3  # sessions offered at once; the rest stay for ``facilitator recover``


def when(started_at: str) -> str:
    """``2026-11-23T18:45:00+00:00`` → ``2026-11-23 18:45`` in local time (as written if unreadable)."""
    try:
        moment = datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        return started_at or "an unknown time"
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def offer_line(unfinished) -> str:
    source = unfinished.source or "unknown input"
    return (f"A session from {when(unfinished.started_at)} ({source}, {mmss(unfinished.reached_s)} "
            "reached) was cut short")


def recover_sessions(sessions, history: bool) -> tuple[list[str], int]:
    """Recover each session (no Textual here: runs on a worker thread). One line per session."""
    from facilitator.recovery import recover

    lines, recovered = [], 0
    for unfinished in sessions:
        try:
            recover(Path(unfinished.path), history=history)
        except UserError as exc:
            lines.append(f"Not recovered: {exc}")
        except OSError as exc:
            lines.append(f"Not recovered: {unfinished.path}: {exc.strerror or exc}")
        else:
            recovered += 1
            lines.append(f"Recovered — files in {unfinished.path}")
    return lines, recovered


class RecoveryScreen(ModalScreen[int]):
    """Offer to recover unfinished sessions; dismisses with how many were recovered."""

    BINDINGS = [Binding("escape", "not_now", "not now")]

    DEFAULT_CSS = """
    RecoveryScreen { align: center middle; }
    #recovery { width: 90; max-width: 100%; height: auto; border: round $warning; padding: 0 1;
                background: $surface; }
    #recovery-title { text-style: bold; margin-bottom: 1; }
    .offer { height: auto; }
    #recovery-more { color: $text-muted; }
    #recovery-result { height: auto; margin-top: 1; }
    #recovery-buttons { height: auto; margin-top: 1; }
    #recovery-buttons > Button { margin-right: 2; }
    """

    def __init__(self, sessions: list, history: bool = True):
        super().__init__()
        self.all_sessions = list(sessions)
        self.sessions = self.all_sessions[:MAX_LISTED]
        self.history = history
        self.recovered = 0
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="recovery"):
            yield Static("Unfinished session" + ("s" if len(self.sessions) > 1 else ""),
                         id="recovery-title")
            for index, unfinished in enumerate(self.sessions):
                yield Static(offer_line(unfinished), classes="offer", id=f"offer-{index}")
            more = len(self.all_sessions) - len(self.sessions)
            if more:
                yield Static(f"and {more} more — 'facilitator recover' finishes them all",
                             id="recovery-more")
            yield Static("", id="recovery-result")
            with Horizontal(id="recovery-buttons"):
                yield Button("Recover", id="recover", variant="primary", compact=True)
                yield Button("Not now", id="not-now", compact=True)

    def on_mount(self) -> None:
        self.query_one("#recover", Button).focus()

    @on(Button.Pressed, "#recover")
    def action_recover(self) -> None:
        if self.busy or self.recovered:
            return
        self.busy = True
        self.query_one("#recover", Button).disabled = True
        self.query_one("#recovery-result", Static).update("Recovering…")
        self._recover(self.sessions, self.history)

    @work(thread=True, exclusive=True, group="recover", exit_on_error=False)
    def _recover(self, sessions, history: bool) -> None:
        try:
            lines, recovered = recover_sessions(sessions, history)
        except Exception as exc:  # shown, not swallowed: the journals are never changed
            lines, recovered = [f"Not recovered: {type(exc).__name__}: {exc}"], 0
        self.post_message(RecoveryDone(lines, recovered))

    @on(RecoveryDone)
    def _on_done(self, message: RecoveryDone) -> None:
        self.busy = False
        self.recovered = message.recovered
        self.query_one("#recovery-result", Static).update("\n".join(message.lines))
        self.query_one("#not-now", Button).label = "Close"
        self.query_one("#not-now", Button).focus()

    @on(Button.Pressed, "#not-now")
    def action_not_now(self) -> None:
        if not self.busy:
            self.dismiss(self.recovered)
