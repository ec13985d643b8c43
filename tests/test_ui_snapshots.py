"""Snapshot tests of the three screens (pytest-textual-snapshot), grouped by screen.

Deterministic: a fixed clock and session id, stream time moved by the test (stepped source), the
report written to a fixed directory. Update with ``pytest tests/test_ui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import shutil

import pytest

from test_ui_support import FIXED_NOW, SAMPLES, run_until_idle, sample, stepped_app  # noqa: I001

SIZE = (100, 30)
REPORT_DIR = "/tmp/facilitator-snapshot/report-session"
DEVICES = [{"index": 0, "name": "Built-in microphone", "channels": 2, "rate_hz": 48000, "default": True},
           {"index": 3, "name": "USB audio interface", "channels": 4, "rate_hz": 48000, "default": False}]


class TestSetupScreen:
    def test_setup_defaults(self, snap_compare):
        """The set-up screen as it opens: Alex and Sam, round-robin 5:00, a mic per person."""
        from facilitator.ui import SessionPlan, make_app

        app = make_app(SessionPlan(history=False), devices=lambda: DEVICES)
        assert snap_compare(app, terminal_size=SIZE)

    def test_setup_error(self, snap_compare):
        """Three names on a two-channel mic in mic-per-person mode: the screen says why it cannot start."""
        from facilitator.ui import SessionPlan, make_app

        app = make_app(SessionPlan(history=False), devices=lambda: DEVICES)

        async def run_before(pilot):
            app.screen.query_one("#names").value = "Alex, Sam, Kim"
            await pilot.press("ctrl+s")  # start

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


class TestLiveScreen:
    def test_live_mid_turn_with_alert(self, snap_compare, tmp_path):
        """Round-robin, Alex's turn; Sam has just broken in (3.96 s): the alert names Sam."""
        app, source = stepped_app(sample("open-2.mics.flac"), out_dir=str(tmp_path / "s"))

        async def run_before(pilot):
            await run_until_idle(pilot, source, 6.0)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)

    def test_live_small_terminal(self, snap_compare, tmp_path):
        """The same moment at 80×24: everything that matters still fits."""
        app, source = stepped_app(sample("open-2.mics.flac"), out_dir=str(tmp_path / "s"))

        async def run_before(pilot):
            await run_until_idle(pilot, source, 6.0)

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class TestReportScreen:
    def test_report_after_replay(self, snap_compare):
        """An instant replay of open-2.mics.flac in 30-s round-robin turns, ended at the file's end."""
        from facilitator.ui import SessionPlan, make_app
        from facilitator.ui.report import ReportScreen

        shutil.rmtree(REPORT_DIR, ignore_errors=True)
        plan = SessionPlan(names=["Alex", "Sam"], protocol="round-robin", turn_s=30.0, mode="channels",
                           history=False, replay_file=str(SAMPLES / "open-2.mics.flac"), speed=None,
                           out_dir=REPORT_DIR, session_id="20261123-184500-open-2",
                           source_label="open-2.mics.flac")
        app = make_app(plan, show_setup=False, clock_now=lambda: FIXED_NOW)

        async def run_before(pilot):
            for _ in range(400):
                if isinstance(app.screen, ReportScreen):
                    break
                await pilot.pause(0.05)
            assert isinstance(app.screen, ReportScreen)

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
