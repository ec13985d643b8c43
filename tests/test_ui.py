"""The app, driven as a person would: Pilot key presses on a session fed from a stepped source.

The source only moves when the test releases more audio, so each assertion sees a known stream
time. Messages are observed with ``run_test(message_hook=...)``.
"""

from __future__ import annotations

import pytest
from textual.widgets import Static

from test_ui_support import run_until_idle, sample, stepped_app  # noqa: I001

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SIZE = (100, 30)


def _kinds(messages, kind):
    from facilitator.ui.messages import PipelineEvent

    return [m.event for m in messages if isinstance(m, PipelineEvent) and m.event["kind"] == kind]


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_interrupting_a_protected_turn_raises_one_alert_naming_the_interrupter(tmp_path):
    """Sam breaks into Alex's turn at 3.96 s: exactly one alert, naming Sam, with Alex's time left."""
    app, source = stepped_app(sample("open-2.mics.flac"), out_dir=str(tmp_path / "s"))
    seen = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await run_until_idle(pilot, source, 3.0)
        assert not app.screen.alerts
        await run_until_idle(pilot, source, 8.0)
        screen = app.screen
        assert len(_kinds(seen, "turn_interruption")) == 1
        interruptions = [a for a in screen.alerts if a["kind"] == "interruption"]
        assert len(interruptions) == 1
        assert interruptions[0]["who"] == "Sam"
        shown = _text(app, "#alert")
        assert "Sam — Alex has the floor" in shown and "left" in shown
        assert "Alex has the floor" in _text(app, "#turn-text")


async def test_time_up_advances_to_the_next_holder(tmp_path):
    """10-s turns: when Alex's own floor reaches 10 s the floor passes to Sam, and the screen says so."""
    app, source = stepped_app(sample("open-2.mics.flac"), turn_s=10.0, out_dir=str(tmp_path / "s"))
    seen = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await run_until_idle(pilot, source, 17.0)
        assert "Alex has the floor" in _text(app, "#turn-text")
        await run_until_idle(pilot, source, 20.0)
        ends = _kinds(seen, "turn_end")
        assert [(e["holder"], e["reason"]) for e in ends] == [("Alex", "time_up")]
        assert "Sam has the floor" in _text(app, "#turn-text")
        assert "next: Alex" in _text(app, "#turn-text")
        assert "Time — the floor passes to Sam" in _text(app, "#alert")


async def test_time_up_waits_for_a_key_when_auto_advance_is_off(tmp_path):
    """Without auto-advance the screen asks for n; pressing it passes the floor to Sam."""
    app, source = stepped_app(sample("open-2.mics.flac"), turn_s=10.0, auto_advance=False,
                              out_dir=str(tmp_path / "s"))
    seen = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await run_until_idle(pilot, source, 20.0)
        assert "press n" in _text(app, "#alert")
        assert "Alex has the floor" in _text(app, "#turn-text")
        await pilot.press("n")  # pass the floor now
        await run_until_idle(pilot, source, 20.5)
        assert [e["reason"] for e in _kinds(seen, "turn_end")] == ["passed"]
        assert "Sam has the floor" in _text(app, "#turn-text")


async def test_manual_override_changes_the_speaker(tmp_path):
    """Manual mode on one mic: speech is 'unsure' until 1 names Alex; 2 then credits Sam."""
    app, source = stepped_app(sample("open-2.flac"), mode="manual", protocol="open",
                              out_dir=str(tmp_path / "s"))
    seen = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await run_until_idle(pilot, source, 2.0)
        assert "unsure who is speaking" in _text(app, "#status")
        await pilot.press("1")  # Alex is speaking
        await run_until_idle(pilot, source, 3.5)
        assert "Alex speaking" in _text(app, "#status")
        alex_s = app.screen.snapshot["floor_s"]["Alex"]
        assert alex_s > 0.5
        await pilot.press("2")  # now Sam
        await run_until_idle(pilot, source, 6.0)
        assert [e["speaker"] for e in _kinds(seen, "speaker_override")] == ["Alex", "Sam"]
        assert app.screen.snapshot["floor_s"]["Sam"] > 0.5
        assert app.screen.snapshot["floor_s"]["Alex"] == pytest.approx(alex_s, abs=0.2)
        assert "manual: Sam" in _text(app, "#status")
        await pilot.press("0")  # back to automatic: unsure again
        await run_until_idle(pilot, source, 8.0)
        assert _kinds(seen, "speaker_override")[-1]["speaker"] is None


async def test_pause_stops_the_clock_and_end_shows_the_report(tmp_path):
    """Space pauses (the stream does not move), space resumes; e ends and the report lists the files."""
    from facilitator.ui.report import ReportScreen

    app, source = stepped_app(sample("open-2.mics.flac"), out_dir=str(tmp_path / "s"))
    async with app.run_test(size=SIZE) as pilot:
        await run_until_idle(pilot, source, 4.0)
        await pilot.press("space")  # pause
        assert "PAUSED" in _text(app, "#topbar")
        await pilot.press("space")  # resume
        assert "PAUSED" not in _text(app, "#topbar")
        await pilot.press("m")  # mark a moment
        await run_until_idle(pilot, source, 6.0)
        await pilot.press("e")  # end the session
        for _ in range(100):
            if isinstance(app.screen, ReportScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ReportScreen)
        assert str(tmp_path / "s") in _text(app, "#report-files")
        summary = app.screen.summary
        assert summary["markers"] and summary["markers"][0]["t_s"] == pytest.approx(4.0, abs=0.6)  # VAD lag
    assert (tmp_path / "s" / "session.json").exists()


async def test_replay_in_the_app_matches_the_text_replay(tmp_path):
    """The report screen of an instant replay shows the same figures the replay command writes."""
    import json

    from facilitator.cli import main
    from facilitator.ui import SessionPlan, make_app
    from facilitator.ui.report import ReportScreen

    main(["replay", str(sample_path("open-2.mics.flac")), "--speakers", "Alex,Sam", "--out",
          str(tmp_path / "text"), "--no-history", "-q"])
    expected = json.loads((tmp_path / "text" / "session.json").read_text())
    plan = SessionPlan(names=["Alex", "Sam"], protocol="open", mode="channels", history=False,
                       replay_file=str(sample_path("open-2.mics.flac")), speed=None,
                       out_dir=str(tmp_path / "tui"))
    app = make_app(plan, show_setup=False)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(600):  # up to 30 s: the replay also writes its reports (slow on a busy machine)
            if isinstance(app.screen, ReportScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ReportScreen)
        got = app.screen.summary
    assert [(s["name"], s["floor_s"]) for s in got["speakers"]] == \
        [(s["name"], s["floor_s"]) for s in expected["speakers"]]
    assert got["interruptions"] == expected["interruptions"]


async def test_setup_screen_starts_the_session_it_describes(tmp_path):
    """Type three names, choose open conversation and manual keys, start: the live screen runs it."""
    from facilitator.ui import SessionPlan, make_app
    from facilitator.ui.live import LiveScreen
    from test_ui_support import SteppedSource

    source = SteppedSource(sample("meeting-3.flac"))
    devices = lambda: [{"index": 0, "name": "Built-in", "channels": 1, "rate_hz": 48000, "default": True}]
    app = make_app(SessionPlan(out_dir=str(tmp_path / "s"), history=False),
                   source_factory=lambda plan: source, devices=devices)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#names")
        app.screen.query_one("#names").value = ""
        await pilot.press(*"Kim, Alex, Sam")
        await pilot.press("ctrl+s")  # one mic, one channel: "a mic per person" cannot work
        await pilot.pause()
        assert "needs 3 input channels" in _text(app, "#setup-error")
        await pilot.click("#protocol-open")
        await pilot.click("#mode-manual")
        await pilot.click("#start")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        plan = app.screen.plan
        assert (plan.names, plan.protocol, plan.mode) == (["Kim", "Alex", "Sam"], "open", "manual")
        await run_until_idle(pilot, source, 3.0)
        assert app.screen.session is not None and app.screen.alert is None


async def test_setup_refuses_one_name(tmp_path):
    """One name is not a conversation: the set-up screen says so and stays."""
    from facilitator.ui import SessionPlan, make_app
    from facilitator.ui.setup import SetupScreen

    app = make_app(SessionPlan(out_dir=str(tmp_path / "s")), devices=lambda: [],
                   source_factory=lambda plan: None)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.query_one("#names").value = "Alex"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        assert "2 to 8 names" in _text(app, "#setup-error")


def sample_path(name):
    from test_ui_support import SAMPLES

    return SAMPLES / name
