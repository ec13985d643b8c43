"""The live screen: who is speaking, floor times and shares, the protected turn and its alerts.

The pipeline runs in a thread worker and only posts messages; every change of what is shown
happens in this screen's message handlers, on the UI thread. Times on screen are stream time (the
holder's floor), so a paused or replayed session shows exactly what the journal says.
"""

from __future__ import annotations

from typing import Callable

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Digits, Footer, Static

from facilitator.attribution import UNKNOWN
from facilitator.errors import UserError
from facilitator.ledger import Ledger
from facilitator.ui.format import colour_of, countdown, mmss, share_bar
from facilitator.ui.messages import (
    InputLost,
    PipelineEvent,
    PipelineStatus,
    SessionFailed,
    SessionFinished,
)
from facilitator.ui.session import LiveSession, SessionPlan

LOST_LINE = ("The microphone stopped sending audio — reconnect it and press r to resume, or e to end; "
             "the session so far is saved")
ALERT_SHOW_S = 6.0  # stream seconds an alert stays up (a time-up notice stays until the next turn)

# (key, action, description): one table for the footer, the command palette and the help text
SESSION_KEYS = [
    ("space", "pause", "pause", "Pause or resume the session (the clocks stop)"),
    ("n", "pass_floor", "next", "Pass the floor to the next person now"),
    ("g", "give_back", "give back", "Give the holder back the time lost to the last interruption"),
    ("m", "mark", "mark", "Mark this moment in the session"),
    ("b", "toggle_bell", "bell", "Ring the terminal bell on alerts (on/off)"),
    ("e", "end", "end", "End the session and show the report"),
]


class LiveScreen(Screen):
    """A running session."""

    BINDINGS = [
        *[Binding(key, action, label) for key, action, label, _ in SESSION_KEYS],
        Binding("1", "speaker(1)", "who", key_display="1–8"),
        *[Binding(str(i), f"speaker({i})", f"person {i}", show=False) for i in range(2, 9)],
        Binding("0", "speaker(0)", "auto"),
        Binding("r", "resume_input", "resume input"),  # shown only while the input is lost
    ]

    DEFAULT_CSS = """
    LiveScreen { layout: vertical; }
    #topbar { height: 1; background: $panel; color: $text; padding: 0 1; }
    #turn { height: 5; border: round $primary; padding: 0 1; overflow: hidden; }
    #turn-text { width: 1fr; }
    #countdown { width: auto; min-width: 12; text-align: right; }
    #countdown.warn { color: $warning; }
    #countdown.up { color: $error; }
    #alert { height: 3; padding: 0 1; content-align: left middle; display: none; text-style: bold; }
    #alert.shown { display: block; }
    #alert.interruption { background: $error; color: $text; }
    #alert.warning { background: $warning 60%; color: $text; }
    #alert.info { background: $primary 40%; color: $text; }
    #alert.lost { background: $error; color: $text; }
    #people { height: auto; border: round $secondary; padding: 0 1; overflow: hidden; }
    #status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, plan: SessionPlan, source_factory: Callable, status_every_s: float = 0.1,
                 clock_now=None):
        super().__init__()
        self.plan = plan
        self.source_factory = source_factory
        self.status_every_s = status_every_s
        self.clock_now = clock_now
        self.session: LiveSession | None = None
        self.ledger = Ledger()
        self.snapshot: dict = {}
        self.names = list(plan.names)
        self.alerts: list[dict] = []  # every alert shown, in order (tests and the report read it)
        self.alert: dict | None = None  # the one on screen
        self.stream_s = 0.0
        self.last_speech_s = 0.0
        self.streak_from_s = 0.0  # the current turn has been uninterrupted since then
        self.waiting_for_pass = False  # time is up and the floor passes on a key press
        self.ending = False
        self.bell = plan.bell
        self.input_lost: str | None = None  # the lost input's error while waiting for r or e

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(id="topbar")
        if self.plan.pipeline_protocol == "round-robin":
            with Horizontal(id="turn"):
                yield Static(id="turn-text")
                yield Digits("0:00", id="countdown")
        yield Static(id="alert")
        yield Static(id="people")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#people", Static).border_title = "floor time · share (┃ = equal share)"
        try:
            source = self.source_factory(self.plan)
            self.session = LiveSession(self.plan, source, self._post_event, self._post_status,
                                       status_every_s=self.status_every_s, clock_now=self.clock_now,
                                       on_lost=self._post_lost)
        except UserError as exc:
            self._show_failure(str(exc))
            return
        if self.plan.pipeline_protocol == "round-robin":
            self.query_one("#countdown", Digits).update(countdown(self.plan.turn_s))
        self._refresh_all()
        self._run_pipeline()

    def on_unmount(self) -> None:
        if self.session is not None and not self.ending:
            self.session.stop()

    # ------------------------------------------------ the pipeline thread
    def _post_event(self, event: dict) -> None:
        if event["kind"] != "heartbeat":
            self.post_message(PipelineEvent(dict(event)))

    def _post_status(self, snapshot: dict) -> None:
        self.post_message(PipelineStatus(snapshot))

    def _post_lost(self, error: str, saved: str | None, save_error: str | None) -> None:
        self.post_message(InputLost(error, saved, save_error))

    @work(thread=True, exclusive=True, name="pipeline", exit_on_error=False)
    def _run_pipeline(self) -> None:
        try:
            outcome = self.session.run()
        except UserError as exc:
            self.post_message(SessionFailed(str(exc)))
        except Exception as exc:  # shown, not swallowed: the journal so far is on disk
            self.post_message(SessionFailed(f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(SessionFinished(outcome))

    # --------------------------------------------------------- handlers
    @on(PipelineEvent)
    def _on_event(self, message: PipelineEvent) -> None:
        event = message.event
        self.ledger.apply(event)
        kind = event["kind"]
        t_s = float(event.get("t_s", 0.0))
        self.stream_s = max(self.stream_s, t_s)
        if kind == "speech_start":
            active = set(self.snapshot.get("active", []))
            active.add(event["speaker"])
            self.snapshot["active"] = sorted(active)
        elif kind == "speech_end":
            self.snapshot["active"] = [n for n in self.snapshot.get("active", []) if n != event["speaker"]]
            self.last_speech_s = t_s
        elif kind == "turn_interruption":
            self.streak_from_s = float(event.get("detected_s", t_s))
            self._raise_alert("interruption",
                              f"⚠  {event['who']} — {event['whom']} has the floor, "
                              f"{countdown(event['left_s'])} left", t_s, who=event["who"])
        elif kind == "turn_warning":
            if event["left_s"] > 0:
                self._raise_alert("warning", f"{countdown(event['left_s'])} left for {event['holder']}",
                                  t_s)
            else:
                nxt = self._next_holder()
                self.waiting_for_pass = True
                prompt = (f"{nxt}, say back what you heard from {event['holder']}; then press n"
                          if self.plan.protocol == "speaker-listener"
                          else "press n to pass the floor")
                self._raise_alert("warning", f"Time — the floor passes to {nxt} ({prompt})", t_s,
                                  sticky=True)
        elif kind == "turn_end":
            self.waiting_for_pass = False
            if event["reason"] == "time_up":
                self._raise_alert("info", f"Time — the floor passes to {event['next']}", t_s)
            elif event["reason"] == "passed":
                self._raise_alert("info", f"{event['holder']} passed the floor to {event['next']}", t_s)
        elif kind == "turn_start":
            self.streak_from_s = t_s
            self.snapshot["holder"] = event["holder"]
        elif kind == "time_given_back":
            self._raise_alert("info", f"+{mmss(event['given_s'])} given back to {event['holder']}", t_s)
        elif kind == "speaker_override":
            who = event["speaker"]
            self.snapshot["override"] = who
            self.notify(f"{who} has the floor (manual)" if who else "Who is speaking: automatic",
                        timeout=2)
        elif kind == "marker":
            self.notify(f"Moment marked at {mmss(t_s)}", timeout=2)
        elif kind == "floor_change":
            self.snapshot["holder"] = event["holder"]
        for name in (event.get("speaker"), event.get("holder")):
            if name and name not in self.names:
                self.names.append(name)
        self._refresh_all()

    @on(PipelineStatus)
    def _on_status(self, message: PipelineStatus) -> None:
        self.snapshot = message.snapshot
        self.stream_s = max(self.stream_s, float(self.snapshot.get("t_s", 0.0)))
        if self.alert and not self.alert.get("sticky") and \
                self.stream_s - self.alert["t_s"] > ALERT_SHOW_S:
            self.alert = None
        self._refresh_all()

    @on(SessionFinished)
    def _on_finished(self, message: SessionFinished) -> None:
        from facilitator.ui.report import ReportScreen

        self.ending = True
        self.app.switch_screen(ReportScreen(message.outcome))

    @on(InputLost)
    def _on_input_lost(self, message: InputLost) -> None:
        if self.ending:
            return  # already ending: the session finishes from what was counted
        self.input_lost = message.error
        line = LOST_LINE
        if message.saved is None:
            line = LOST_LINE.replace("the session so far is saved",
                                     f"the session so far could not be saved ({message.save_error})")
        self._show_lost(line)
        self.refresh_bindings()

    @on(SessionFailed)
    def _on_failed(self, message: SessionFailed) -> None:
        self._show_failure(message.error)

    # ---------------------------------------------------------- actions
    def action_pause(self) -> None:
        if self.session is None:
            return
        if self.session.paused:
            self.session.resume()
        else:
            self.session.pause()
        self._refresh_all()

    def action_pass_floor(self) -> None:
        if self.session is None:
            return
        if self.plan.pipeline_protocol != "round-robin":
            self.notify("Passing the floor is for round-robin turns", timeout=2)
            return
        self.session.request("pass_floor")

    def action_give_back(self) -> None:
        if self.session is not None and self.plan.pipeline_protocol == "round-robin":
            self.session.request("give_back")

    def action_speaker(self, number: int) -> None:
        if self.session is None:
            return
        if number == 0:
            self.session.request("override", None)
        elif number <= len(self.plan.names):
            self.session.request("override", self.plan.names[number - 1])
        else:
            self.notify(f"There is no person {number}", timeout=2)

    def action_mark(self) -> None:
        if self.session is not None:
            self.session.request("mark", "mark")

    def action_toggle_bell(self) -> None:
        self.bell = not self.bell
        self.notify(f"Bell on alerts: {'on' if self.bell else 'off'}", timeout=2)

    def action_resume_input(self, device=None) -> None:
        """After a lost input: a new source from the same factory (the plan's device, or
        ``device``), and the session runs on with the same counts."""
        if self.session is None or self.input_lost is None or self.ending:
            return
        plan = self.plan if device is None else self.plan.with_changes(device=device)
        try:
            source = self.source_factory(plan)
        except UserError as exc:
            self._show_lost(f"Could not resume: {exc} — reconnect it and press r to try again, or e "
                            "to end; the session so far is saved")
            return
        try:
            self.session.resume_input(source)
        except UserError as exc:
            source.stop()
            self._show_lost(f"Could not resume: {exc} — press r to try again, or e to end; the "
                            "session so far is saved")
            return
        self.plan = plan
        self.input_lost = None
        self.alert = {"kind": "info", "text": f"Input resumed ({source.name}) — the session goes on",
                      "t_s": self.stream_s, "sticky": False}
        self.refresh_bindings()
        self._refresh_all()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "resume_input":
            return self.input_lost is not None and not self.ending
        return True

    def action_end(self) -> None:
        if self.session is None:
            self.app.exit()
            return
        if self.input_lost is not None:
            self.input_lost = None
            self.alert = None
            self._refresh_all()
            self.refresh_bindings()
        self.ending = True
        self.session.stop()
        self.query_one("#status", Static).update("Ending the session — writing the report…")

    # --------------------------------------------------------- rendering
    def _next_holder(self) -> str:
        turn = self.snapshot.get("turn") or {}
        return turn.get("next") or "the next person"

    def _raise_alert(self, kind: str, text: str, t_s: float, sticky: bool = False, **extra) -> None:
        self.alert = {"kind": kind, "text": text, "t_s": t_s, "sticky": sticky, **extra}
        self.alerts.append(self.alert)
        if self.bell and kind in ("interruption", "warning"):
            self.app.bell()

    def _show_lost(self, line: str) -> None:
        self.alert = {"kind": "lost", "text": line, "t_s": self.stream_s, "sticky": True}
        self._refresh_all()

    def _show_failure(self, error: str) -> None:
        self.ending = True
        self.alert = {"kind": "interruption", "text": f"The session stopped: {error}",
                      "t_s": self.stream_s, "sticky": True}
        self._refresh_all()

    def _refresh_all(self) -> None:
        self._render_topbar()
        if self.plan.pipeline_protocol == "round-robin":
            self._render_turn()
        self._render_alert()
        self._render_people()
        self._render_status()

    def _render_topbar(self) -> None:
        plan = self.plan
        text = Text()
        text.append("facilitator", style="bold")
        what = {"open": "open conversation", "round-robin": f"round-robin, {mmss(plan.turn_s)} turns",
                "speaker-listener": f"speaker–listener, {mmss(plan.turn_s)} turns"}[plan.protocol]
        text.append(f"  {what} · {plan.source_label or 'microphone'}")
        text.append(f"  {mmss(self.stream_s)}", style="bold")
        if self.session is not None and self.session.paused:
            text.append("  ⏸ PAUSED", style="bold reverse yellow")
        if plan.record_path:
            text.append(f"  ● REC {plan.record_path}", style="bold red")
        self.query_one("#topbar", Static).update(text)

    def _render_turn(self) -> None:
        turn = self.snapshot.get("turn")
        names = self.names
        text = Text()
        digits = self.query_one("#countdown", Digits)
        if not turn:
            holder = self.plan.names[0]
            text.append(holder, style=f"bold {colour_of(names, holder)}")
            text.append(" has the floor\n")
            text.append(f"next: {' → '.join(self._order_after(0))}", style="dim")
            self.query_one("#turn-text", Static).update(text)
            return
        holder = turn["holder"]
        text.append(holder, style=f"bold {colour_of(names, holder)}")
        text.append(" has the floor")
        text.append(f"   turn {turn['index'] + 1}", style="dim")
        text.append(f"\nnext: {' → '.join(self._order_after(turn['index']))}")
        streak_s = max(0.0, self.stream_s - self.streak_from_s)
        text.append(f"\nuninterrupted {mmss(streak_s)}", style="green")
        if turn.get("interruptions"):
            text.append(f" · {turn['interruptions']} interruption(s) this turn", style="dim")
        self.query_one("#turn-text", Static).update(text)
        left_s = turn["left_s"]
        digits.update(countdown(left_s))
        digits.set_class(0 < left_s <= 60, "warn")
        digits.set_class(left_s <= 0, "up")

    def _order_after(self, index: int) -> list[str]:
        order = self.plan.names
        n = len(order)
        return [order[(index + k) % n] for k in range(1, min(n, 3) + 1)]

    def _render_alert(self) -> None:
        widget = self.query_one("#alert", Static)
        alert = self.alert
        widget.set_class(alert is not None, "shown")
        for kind in ("interruption", "warning", "info", "lost"):
            widget.set_class(alert is not None and alert["kind"] == kind, kind)
        widget.update(alert["text"] if alert else "")

    def _render_people(self) -> None:
        floors: dict = dict(self.snapshot.get("floor_s", {}))
        names = [n for n in self.names if n != UNKNOWN] + ([UNKNOWN] if UNKNOWN in floors else [])
        total = sum(floors.values())
        named = [n for n in names if n != UNKNOWN]
        equal = 1.0 / max(1, len(named))
        active = set(self.snapshot.get("active", []))
        table = Table.grid(expand=True, padding=(0, 1))
        table.add_column(width=1)
        table.add_column(no_wrap=True, min_width=6, max_width=14)
        table.add_column(ratio=1, no_wrap=True)
        table.add_column(justify="right", width=7)
        table.add_column(justify="right", width=4)
        table.add_column(justify="right", width=9)
        table.add_column(justify="right", width=5)
        table.add_row("", "", Text(""), Text("floor", style="dim"), Text("%", style="dim"),
                      Text("int ↑/↓", style="dim"), Text("bc", style="dim"))
        for name in names:
            floor_s = floors.get(name, 0.0)
            share = floor_s / total if total > 0 else 0.0
            colour = colour_of(self.names, name)
            speaking = name in active
            made = sum(1 for i in self.ledger.interruptions if i["who"] == name)
            received = sum(1 for i in self.ledger.interruptions if i["whom"] == name)
            backchannels = sum(1 for b in self.ledger.backchannels if b["who"] == name)
            label = Text(name, style=f"bold reverse {colour}" if speaking else f"bold {colour}")
            table.add_row(Text("▶" if speaking else "", style=colour), label,
                          share_bar(share, equal, 30, colour), mmss(floor_s), f"{round(100 * share)}",
                          f"{made}/{received}", str(backchannels))
        self.query_one("#people", Static).update(table)

    def _render_status(self) -> None:
        if self.ending and self.session is not None and self.alert is None:
            return
        active = [n for n in self.snapshot.get("active", [])]
        text = Text()
        if self.input_lost is not None:
            text.append("waiting for the input — r resume · e end", style="red")
        elif self.session is not None and self.session.paused:
            text.append("paused — nothing is measured until you resume (space)", style="yellow")
        elif active:
            named = [n for n in active if n != UNKNOWN]
            if named:
                text.append("● ", style="green")
                text.append(" + ".join(named), style="bold")
                text.append(" speaking")
            if UNKNOWN in active:
                text.append("   ? unsure who is speaking (1–8 says who)", style="bold yellow")
        else:
            text.append(f"silence {mmss(self.stream_s - self.last_speech_s)}", style="dim")
        override = self.snapshot.get("override")
        if override:
            text.append(f"   manual: {override} (0 = automatic)", style="cyan")
        overflows = self.snapshot.get("overflows", 0)
        if overflows:
            text.append(f"   audio dropped {overflows}×", style="red")
        self.query_one("#status", Static).update(text)
