"""The set-up screen: who is at the table, how they take turns, how speech is attributed, which mic."""

from __future__ import annotations

import threading
from typing import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, RadioButton, RadioSet, Select, Static

from facilitator.errors import UserError
from facilitator.ui.format import mmss
from facilitator.ui.messages import InputLevel
from facilitator.ui.session import PROTOCOLS, SessionPlan, voices_available

CONSENT = ("Measured: when each person speaks, for how long, and who talks over whom. Nothing leaves "
           "this computer and no audio is kept unless recording is switched on below.")
MODE_LABELS = {"channels": "a mic per person", "voices": "shared mic, voices", "manual": "manual keys"}
PROTOCOL_LABELS = {"open": "open", "round-robin": "round-robin", "speaker-listener": "speaker–listener"}


def parse_duration(text: str) -> float:
    """``5:00``, ``300``, ``5m`` or ``90s`` → seconds."""
    text = text.strip().lower().replace(" ", "")
    try:
        if ":" in text:
            minutes, seconds = text.split(":", 1)
            return int(minutes or 0) * 60 + float(seconds or 0)
        if text.endswith("m"):
            return float(text[:-1]) * 60
        return float(text.rstrip("s"))
    except ValueError:
        raise UserError(f"turn length {text!r}: write it like 5:00") from None


def parse_people(text: str) -> list[str]:
    names = [n.strip() for n in text.replace(";", ",").split(",") if n.strip()]
    if not 2 <= len(names) <= 8:
        raise UserError(f"give 2 to 8 names, separated by commas (now {len(names)})")
    if len({n.casefold() for n in names}) != len(names):
        raise UserError("the names must differ")
    return names


class SetupScreen(Screen):
    """Decide the session, then start it."""

    BINDINGS = [Binding("ctrl+s", "start", "start"), Binding("ctrl+q", "app.quit", "quit")]

    DEFAULT_CSS = """
    SetupScreen { layout: vertical; }
    #setup-title { height: 1; background: $panel; padding: 0 1; text-style: bold; }
    #setup-form { padding: 0 1; }
    .row { height: auto; margin-bottom: 1; }
    .row > Label { width: 16; padding: 0 1 0 0; color: $text-muted; }
    .row > Input { width: 1fr; }
    #turn-length { width: 10; }
    RadioSet { layout: horizontal; width: auto; }
    #setup-form RadioSet > RadioButton { width: auto; margin-right: 1; }
    #setup-form RadioSet { width: 1fr; }
    #device { width: 1fr; }
    #level { width: 26; padding: 0 1; }
    #consent { color: $text-muted; margin-bottom: 1; }
    #setup-error { color: $error; text-style: bold; height: auto; }
    #start { margin-left: 16; }
    #voices-row { display: none; }
    #voices-row.shown { display: block; }
    #voice-list { height: auto; width: 1fr; }
    .voice { height: 1; }
    .voice > Static { width: 30; }
    """

    def __init__(self, plan: SessionPlan, devices: Callable[[], list[dict]] | None = None,
                 level_source: Callable | None = None, enroll_source: Callable | None = None):
        super().__init__()
        self.plan = plan
        self.enroll_source = enroll_source  # device -> audio source for enrollment (tests inject one)
        self.devices_fn = devices
        self.level_source = level_source
        self.device_list: list[dict] = []
        self.device_error = ""
        self._level_stop = threading.Event()

    def compose(self) -> ComposeResult:
        plan = self.plan
        yield Static("facilitator · set up a session", id="setup-title")
        with VerticalScroll(id="setup-form"):
            yield Static(CONSENT, id="consent")
            with Horizontal(classes="row"):
                yield Label("People, in turn")
                yield Input(", ".join(plan.names), placeholder="Alex, Sam", id="names", compact=True)
            with Horizontal(classes="row"):
                yield Label("Protocol")
                with RadioSet(id="protocol", compact=True):
                    for key, label in PROTOCOL_LABELS.items():
                        yield RadioButton(label, value=(key == plan.protocol), name=key,
                                          id=f"protocol-{key}")
            with Horizontal(classes="row"):
                yield Label("Turn length")
                yield Input(mmss(plan.turn_s), id="turn-length", compact=True)
                yield Checkbox("advance at time-up", plan.auto_advance, id="auto-advance", compact=True)
                yield Checkbox("bell on alerts", plan.bell, id="bell", compact=True)
            with Horizontal(classes="row"):
                yield Label("Who speaks")
                with RadioSet(id="mode", compact=True):
                    for key, label in MODE_LABELS.items():
                        off = key == "voices" and not voices_available()
                        yield RadioButton(label + (" (n/a)" if off else ""),
                                          value=(key == plan.mode), name=key, disabled=off,
                                          id=f"mode-{key}")
            with Horizontal(classes="row", id="voices-row"):
                yield Label("Voices")
                yield Vertical(id="voice-list")
            with Horizontal(classes="row"):
                yield Label("Microphone")
                yield Select([], prompt="default input", id="device", compact=True, allow_blank=True)
                yield Static("level –", id="level")
            with Horizontal(classes="row"):
                yield Label("Record audio")
                yield Input(plan.record_path or "", placeholder="off — or a file name to keep the audio",
                            id="record", compact=True)
            yield Static("", id="setup-error")
            yield Button("Start the session", id="start", variant="primary", compact=True)
        yield Footer()

    async def on_mount(self) -> None:
        self._load_devices()
        self.query_one("#names", Input).focus()
        await self._refresh_voices()

    def on_unmount(self) -> None:
        self._level_stop.set()

    # -------------------------------------------------------- devices
    def _load_devices(self) -> None:
        select = self.query_one("#device", Select)
        try:
            if self.devices_fn is not None:
                self.device_list = self.devices_fn()
            else:
                from facilitator.microphone import list_input_devices

                self.device_list = list_input_devices()
        except UserError as exc:
            self.device_list = []
            self.device_error = str(exc)
        options = [(f"{d['name']} ({d['channels']} ch)", d["index"]) for d in self.device_list]
        select.set_options(options)
        chosen = self.plan.device
        for d in self.device_list:
            if chosen is not None and (str(chosen) == str(d["index"]) or str(chosen) == d["name"]):
                select.value = d["index"]
        if self.device_error:
            self.query_one("#level", Static).update(Text("no microphone", style="red"))
            self.query_one("#setup-error", Static).update(self.device_error)
        else:
            self._watch_level()

    @on(Select.Changed, "#device")
    def _device_changed(self) -> None:
        self._watch_level()

    def _watch_level(self) -> None:
        if self.level_source is None and self.devices_fn is not None:
            return  # injected devices without a level source: tests, no audio opened
        self._level_stop.set()
        self._level_stop = threading.Event()
        self._read_level(self._selected_device(), self._level_stop)

    @work(thread=True, exclusive=True, group="level", exit_on_error=False)
    def _read_level(self, device, stop: threading.Event) -> None:
        from facilitator.ui.session import microphone_levels

        reader = self.level_source or microphone_levels
        try:
            reader(device, stop, lambda db: self.post_message(InputLevel(db)))
        except UserError as exc:
            self.post_message(InputLevel(float("nan")))
            self.app.call_from_thread(self.notify, str(exc), severity="warning")

    @on(InputLevel)
    def _on_level(self, message: InputLevel) -> None:
        from facilitator.ui.enroll import level_meter

        self.query_one("#level", Static).update(level_meter(message.level_dbfs))

    # --------------------------------------------------------- voices
    @on(Input.Changed, "#names")
    @on(RadioSet.Changed, "#mode")
    async def _refresh_voices(self) -> None:
        """Shared-mic mode: each person's stored voice (✓, re-enroll) or an Enroll button."""
        row = self.query_one("#voices-row")
        shown = (self._radio("#mode") or self.plan.mode) == "voices" and voices_available()
        row.set_class(shown, "shown")
        listing = self.query_one("#voice-list", Vertical)
        await listing.remove_children()
        if not shown:
            return
        from facilitator.voices import profile

        rows = []
        names = [n.strip() for n in self.query_one("#names", Input).value.replace(";", ",").split(",")]
        for index, name in enumerate(n for n in names if n):
            try:
                name = profile.check_name(name)
            except UserError:
                rows.append(Static(Text(f"{name}: not usable as a voice name")))
                continue
            stored = profile.profile_path(name).exists()
            rows.append(Horizontal(
                Static(Text.assemble(name + "  ", ("voice stored ✓", "green") if stored
                                     else ("no voice yet", "dim"))),
                Button("re-enroll" if stored else "Enroll", name=name, id=f"enroll-{index}",
                       classes="enroll-person", compact=True),
                classes="voice"))
        await listing.mount_all(rows)

    @on(Button.Pressed, ".enroll-person")
    def _enroll(self, event: Button.Pressed) -> None:
        from facilitator.ui.enroll import EnrollScreen

        self._level_stop.set()  # the enrollment screen opens the microphone itself

        async def back(_name) -> None:
            await self._refresh_voices()
            self._watch_level()

        self.app.push_screen(EnrollScreen(event.button.name, device=self._selected_device(),
                                          source_factory=self.enroll_source), back)

    def _selected_device(self):
        value = self.query_one("#device", Select).value
        return value if isinstance(value, int) else None  # the blank choice: default input

    # ---------------------------------------------------------- start
    def _read_plan(self) -> SessionPlan:
        names = parse_people(self.query_one("#names", Input).value)
        protocol = self._radio("#protocol") or self.plan.protocol
        turn_s = parse_duration(self.query_one("#turn-length", Input).value)
        if not 10 <= turn_s <= 4 * 3600:
            raise UserError("the turn length must be between 0:10 and 4:00:00")
        mode = self._radio("#mode") or self.plan.mode
        device = self._selected_device()
        if mode == "channels":
            info = next((d for d in self.device_list
                         if d["index"] == device or (device is None and d.get("default"))), None)
            if info and info["channels"] < len(names):
                raise UserError(f"one mic per person needs {len(names)} input channels; "
                                f"{info['name']} has {info['channels']}")
        record = self.query_one("#record", Input).value.strip() or None
        return self.plan.with_changes(
            names=names, protocol=protocol, turn_s=turn_s, mode=mode, device=device,
            auto_advance=self.query_one("#auto-advance", Checkbox).value,
            bell=self.query_one("#bell", Checkbox).value, record_path=record)

    def _radio(self, selector: str) -> str | None:
        pressed = self.query_one(selector, RadioSet).pressed_button
        return pressed.name if pressed is not None else None

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        try:
            plan = self._read_plan()
        except UserError as exc:
            self.query_one("#setup-error", Static).update(str(exc))
            return
        self._level_stop.set()
        self.app.start_session(plan)
