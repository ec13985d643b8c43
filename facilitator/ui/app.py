"""The facilitator app: set-up → live → report. Built by ``make_app`` (the CLI and the tests share it)."""

from __future__ import annotations

from typing import Callable, Iterable

from textual import on, work
from textual.app import App, SystemCommand
from textual.screen import Screen

from facilitator.ui.live import SESSION_KEYS, LiveScreen
from facilitator.ui.messages import UnfinishedFound
from facilitator.ui.session import SessionPlan, default_source


class FacilitatorApp(App):
    """Shows one session: its set-up (unless already decided), the live screen, then the report."""

    TITLE = "facilitator"

    def __init__(self, plan: SessionPlan, source_factory: Callable = default_source,
                 show_setup: bool = True, devices: Callable[[], list[dict]] | None = None,
                 level_source: Callable | None = None, status_every_s: float = 0.1, clock_now=None,
                 enroll_source: Callable | None = None,
                 find_unfinished: Callable[[], list] | None = None):
        super().__init__()
        self.plan = plan
        self.source_factory = source_factory
        self.show_setup = show_setup
        self.devices = devices
        self.level_source = level_source
        self.enroll_source = enroll_source
        self.status_every_s = status_every_s
        self.clock_now = clock_now
        self.find_unfinished = find_unfinished  # None: facilitator.recovery.find_unfinished
        self.live_screens: list[LiveScreen] = []

    def on_mount(self) -> None:
        if self.show_setup:
            from facilitator.ui.setup import SetupScreen

            self.push_screen(SetupScreen(self.plan, devices=self.devices, level_source=self.level_source,
                                         enroll_source=self.enroll_source))
            self._look_for_unfinished()
        else:
            self.start_session(self.plan)

    # ------------------------------------------- sessions cut short earlier
    @work(thread=True, exclusive=True, group="unfinished", exit_on_error=False)
    def _look_for_unfinished(self) -> None:
        finder = self.find_unfinished
        if finder is None:
            from facilitator.recovery import find_unfinished as finder
        try:
            sessions = list(finder())
        except Exception:  # the offer is a convenience: 'facilitator recover' is always there
            return
        if sessions:
            self.post_message(UnfinishedFound(sessions))

    @on(UnfinishedFound)
    def _offer_recovery(self, message: UnfinishedFound) -> None:
        from facilitator.ui.recovery import RecoveryScreen
        from facilitator.ui.setup import SetupScreen

        if isinstance(self.screen, SetupScreen):  # not over a session already started
            self.push_screen(RecoveryScreen(message.sessions, history=self.plan.history))

    def start_session(self, plan: SessionPlan) -> None:
        """Open the live screen for ``plan`` (from the set-up screen, or at once)."""
        self.plan = plan
        screen = LiveScreen(plan, self.source_factory, status_every_s=self.status_every_s,
                            clock_now=self.clock_now)
        self.live_screens.append(screen)
        if self.show_setup:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, LiveScreen):
            for key, action, label, help_text in SESSION_KEYS:
                yield SystemCommand(f"{label.capitalize()}  [{key}]", help_text,
                                    getattr(screen, f"action_{action}"))
            for number, name in enumerate(screen.plan.names, start=1):
                yield SystemCommand(f"{name} is speaking  [{number}]",
                                    f"Manual override: credit speech to {name}",
                                    lambda number=number: screen.action_speaker(number))
            yield SystemCommand("Automatic speaker  [0]", "End the manual override",
                                lambda: screen.action_speaker(0))

    def wait_for_sessions(self, timeout_s: float = 10.0) -> None:
        """After the app has closed: let a session still writing its files finish."""
        for screen in self.live_screens:
            if screen.session is not None:
                screen.session.stop()
                screen.session.done.wait(timeout_s)


def make_app(plan: SessionPlan | None = None, **options) -> FacilitatorApp:
    """The app for ``plan`` (defaults: Alex and Sam, round-robin, 5:00 turns, microphone).

    Options: ``source_factory(plan) -> AudioSource`` (tests pass an array or file source),
    ``show_setup``, ``devices`` (a function listing input devices), ``level_source``,
    ``status_every_s``, ``clock_now`` (a fixed clock makes the session id and files repeatable),
    ``enroll_source(device) -> AudioSource`` (what shared-mic enrollment records; default the mic),
    ``find_unfinished() -> list[Unfinished]`` (sessions cut short, offered for recovery when the
    set-up screen opens; default ``facilitator.recovery.find_unfinished``).
    """
    return FacilitatorApp(plan or SessionPlan(), **options)
