"""The app's recovery paths: the start-up offer for sessions cut short, and resuming a lost input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from textual.widgets import Static

from facilitator.microphone import DeviceLost
from facilitator.sources import ArraySource
from test_ui_support import FIXED_NOW, SAMPLES, sample  # noqa: I001

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SIZE = (110, 32)
BLOCK = 4800  # ArraySource's block: 0.3 s


async def _wait_for(pilot, condition, timeout_s: float = 30.0, what: str = "the app") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


# ------------------------------------------------------------------ start-up recovery offer
@pytest.fixture
def cut_short(private_home) -> Path:
    """A real session in the private data dir, cut short: half its journal, no summary or reports."""
    from facilitator.cli import main

    session = private_home / "sessions" / "20261123-184500-cut"
    assert main(["replay", str(SAMPLES / "open-2.mics.flac"), "--speakers", "Alex,Sam", "--out",
                 str(session), "-q", "--no-history"]) == 0
    journal = session / "events.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    journal.write_text("".join(lines[:len(lines) // 2]), encoding="utf-8")
    for name in ("session.json", "segments.rttm", "report.html", "report.md", "segments.csv"):
        (session / name).unlink(missing_ok=True)
    return session


def _setup_app(finder):
    from facilitator.ui import SessionPlan, make_app

    plan = SessionPlan(history=False)
    return make_app(plan, devices=lambda: [{"index": 0, "name": "test mic", "channels": 2,
                                            "default": True}],
                    find_unfinished=finder, clock_now=lambda: FIXED_NOW)


def _fake_unfinished(session: Path):
    from facilitator.recovery import Unfinished

    return [Unfinished(path=session, session_id=session.name, source="open-2.mics.flac",
                       started_at="2026-11-23T18:45:00+00:00", reached_s=16.2, ended=False)]


async def test_startup_offers_recovery_and_recover_writes_the_session(cut_short):
    from facilitator.recovery import find_unfinished
    from facilitator.ui.recovery import RecoveryScreen
    from facilitator.ui.setup import SetupScreen

    assert [u.path for u in find_unfinished()] == [cut_short]  # the real finder sees it too
    app = _setup_app(lambda: _fake_unfinished(cut_short))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, lambda: isinstance(app.screen, RecoveryScreen), what="the offer")
        modal = app.screen
        line = _text(modal, "#offer-0")
        assert "A session from 2026-11-23" in line and "(open-2.mics.flac, 0:16 reached) was cut short" in line
        await pilot.click("#recover")
        await _wait_for(pilot, lambda: "Recovered" in _text(modal, "#recovery-result"),
                        what="the recovery")
        assert f"files in {cut_short}" in _text(modal, "#recovery-result")
        summary = json.loads((cut_short / "session.json").read_text())
        assert summary["duration_s"] > 0 and {p["name"] for p in summary["speakers"]} >= {"Alex", "Sam"}
        assert (cut_short / "report.html").exists()
        await pilot.click("#not-now")  # now labelled Close
        await _wait_for(pilot, lambda: isinstance(app.screen, SetupScreen), what="the set-up screen")
    assert find_unfinished() == []


async def test_not_now_closes_the_offer_and_leaves_the_session(cut_short):
    from facilitator.ui.recovery import RecoveryScreen
    from facilitator.ui.setup import SetupScreen

    app = _setup_app(lambda: _fake_unfinished(cut_short))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, lambda: isinstance(app.screen, RecoveryScreen), what="the offer")
        await pilot.click("#not-now")
        await _wait_for(pilot, lambda: isinstance(app.screen, SetupScreen), what="the set-up screen")
        await pilot.pause(0.2)
        assert isinstance(app.screen, SetupScreen)
    assert not (cut_short / "session.json").exists()


async def test_no_offer_without_unfinished_sessions():
    from facilitator.ui.setup import SetupScreen

    asked = []
    app = _setup_app(lambda: asked.append(1) or [])
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, lambda: asked, what="the finder")
        await pilot.pause(0.2)
        assert isinstance(app.screen, SetupScreen)


# ------------------------------------------------------------------ lost input, resumed
class LosingArraySource(ArraySource):
    """Yields ``lose_after`` blocks, then fails like an unplugged microphone."""

    def __init__(self, samples, lose_after: int, **kwargs):
        super().__init__(samples, **kwargs)
        self.lose_after = lose_after

    def blocks(self):
        for index, block in enumerate(super().blocks()):
            if index == self.lose_after:
                raise DeviceLost("the microphone stopped sending audio (unplugged?); the session so "
                                 "far is kept — reconnect it and resume")
            yield block


def _live_app(sources: list, out_dir: Path):
    from facilitator.ui import SessionPlan, make_app

    plan = SessionPlan(names=["Alex", "Sam"], protocol="round-robin", turn_s=30.0, mode="channels",
                       history=False, source_label="microphone", out_dir=str(out_dir),
                       session_id="20261123-184500-lost")
    made = []

    def factory(plan):
        made.append(plan)
        return sources.pop(0)

    return make_app(plan, source_factory=factory, show_setup=False, clock_now=lambda: FIXED_NOW), made


async def _run_to_report(app, pilot, timeout_s: float = 60.0) -> None:
    from facilitator.ui.report import ReportScreen

    await _wait_for(pilot, lambda: isinstance(app.screen, ReportScreen), timeout_s, "the report")


def _floors(summary: dict) -> dict:
    return {p["name"]: p["floor_s"] for p in summary["speakers"]}


async def test_lost_microphone_then_resume_matches_an_uninterrupted_run(tmp_path):
    from facilitator.ui.live import LOST_LINE, LiveScreen

    audio = sample("open-2.mics.flac")
    # the uninterrupted session, through the same app
    ref_app, _ = _live_app([ArraySource(audio, name="microphone")], tmp_path / "ref")
    async with ref_app.run_test(size=SIZE) as pilot:
        await _run_to_report(ref_app, pilot)
    ref_app.wait_for_sessions()
    want = json.loads((tmp_path / "ref" / "session.json").read_text())

    lose_after = 60  # blocks of 0.3 s: 18 s in
    session_dir = tmp_path / "lost"
    sources = [LosingArraySource(audio, lose_after, name="microphone"),
               ArraySource(audio[lose_after * BLOCK:], name="microphone")]
    app, made = _live_app(sources, session_dir)
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.input_lost,
                        what="the lost line")
        screen = app.screen
        assert _text(screen, "#alert") == LOST_LINE
        assert screen.query_one("#alert").has_class("lost")  # the red line
        kept = json.loads((session_dir / "session.json").read_text())
        assert kept["complete"] is False and kept["duration_s"] == pytest.approx(18.0)
        assert screen.check_action("resume_input", ()) is True
        await pilot.press("r")
        await _run_to_report(app, pilot)
    app.wait_for_sessions()
    assert len(made) == 2 and made[1].device == made[0].device  # the same device, from the factory
    got = json.loads((session_dir / "session.json").read_text())
    assert got.get("complete", True) is not False
    assert got["duration_s"] == pytest.approx(want["duration_s"], abs=0.1)
    want_floors, got_floors = _floors(want), _floors(got)
    assert set(got_floors) == set(want_floors)
    for name, floor_s in want_floors.items():
        assert got_floors[name] == pytest.approx(floor_s, abs=0.1), name
    assert not got["markers"]  # losing the input is no moment the people marked
    notes = [m["note"] for m in got["input_events"]]
    assert notes[0].startswith("input lost") and notes[1] == "input resumed: microphone"


async def test_lost_microphone_then_end_writes_the_final_summary(tmp_path):
    from facilitator.ui.live import LiveScreen

    audio = sample("open-2.mics.flac")
    session_dir = tmp_path / "lost"
    app, made = _live_app([LosingArraySource(audio, 40, name="microphone")], session_dir)
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.input_lost,
                        what="the lost line")
        await pilot.press("e")
        await _run_to_report(app, pilot)
        assert "Report files written to" in _text(app.screen, "#report-files")
    app.wait_for_sessions()
    got = json.loads((session_dir / "session.json").read_text())
    assert got.get("complete", True) is not False
    assert got["duration_s"] == pytest.approx(12.0)
    assert sum(_floors(got).values()) > 0
    assert (session_dir / "report.html").exists()


async def test_resume_with_the_wrong_channels_keeps_waiting(tmp_path):
    from facilitator.ui.live import LiveScreen

    audio = sample("open-2.mics.flac")
    sources = [LosingArraySource(audio, 20, name="microphone"),
               ArraySource(audio[20 * BLOCK:, :1], name="one-channel mic"),
               ArraySource(audio[20 * BLOCK:], name="microphone")]
    app, _ = _live_app(sources, tmp_path / "lost")
    async with app.run_test(size=SIZE) as pilot:
        await _wait_for(pilot, lambda: isinstance(app.screen, LiveScreen) and app.screen.input_lost,
                        what="the lost line")
        screen = app.screen
        await pilot.press("r")
        await pilot.pause(0.1)
        assert "Could not resume" in _text(screen, "#alert") and "channel" in _text(screen, "#alert")
        assert screen.input_lost
        await pilot.press("r")
        await _run_to_report(app, pilot)
    app.wait_for_sessions()
    assert np.isclose(json.loads((tmp_path / "lost" / "session.json").read_text())["duration_s"],
                      len(audio) / 16000, atol=0.1)
