"""How quickly the app answers a key while the pipeline runs fast, and what it costs at real time.

    python benchmarks/bench_ui.py            # key presses at 20× speed, then CPU at 1× for 20 s
    python benchmarks/bench_ui.py screenshots /tmp/facilitator-shots   # SVG + PNG of the 3 screens

Key press: the time from sending the key until the app has handled it and is idle again (Pilot's
``press`` waits for that), with a replay of samples/open-2.mics.flac running at 20× real time in
10-s round-robin turns (alerts and hand-overs keep coming). CPU: process time ÷ wall time of the
whole app (pipeline thread + UI, headless) replaying at real time.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from facilitator.ui import SessionPlan, make_app  # noqa: E402
from facilitator.ui.live import LiveScreen  # noqa: E402

SAMPLE = REPO / "samples" / "open-2.mics.flac"


def _plan(out: str, speed: float) -> SessionPlan:
    return SessionPlan(names=["Alex", "Sam"], protocol="round-robin", turn_s=10.0, mode="channels",
                       history=False, replay_file=str(SAMPLE), speed=speed, out_dir=out,
                       source_label=SAMPLE.name)


async def key_presses(speed: float = 20.0, presses: int = 30) -> list[float]:
    """Seconds from posting a key to its action running on the UI thread (the pipeline busy at 20×)."""
    handled: list[float] = []
    original = LiveScreen.action_toggle_bell

    def timed(self):  # the binding looks the action up by name, so this wrapper is what runs
        handled.append(time.perf_counter())
        original(self)

    LiveScreen.action_toggle_bell = timed
    try:
        with tempfile.TemporaryDirectory() as out:
            app = make_app(_plan(out, speed), show_setup=False)
            times = []
            async with app.run_test(size=(100, 30)) as pilot:
                await pilot.pause(0.3)
                for _ in range(presses):
                    if not isinstance(app.screen, LiveScreen):
                        break
                    before = len(handled)
                    t0 = time.perf_counter()
                    app.simulate_key("b")  # toggle the bell: a handler and a notification
                    while len(handled) == before and time.perf_counter() - t0 < 2.0:
                        await asyncio.sleep(0.001)
                    if len(handled) > before:
                        times.append(handled[-1] - t0)
                    await asyncio.sleep(0.08)
                if isinstance(app.screen, LiveScreen):
                    app.screen.action_end()
                await pilot.pause(0.5)
            app.wait_for_sessions()
            return times
    finally:
        LiveScreen.action_toggle_bell = original


async def cpu_at_real_time(seconds: float = 20.0) -> float:
    with tempfile.TemporaryDirectory() as out:
        app = make_app(_plan(out, 1.0), show_setup=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.5)
            wall0, cpu0 = time.monotonic(), time.process_time()
            await asyncio.sleep(seconds)
            cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
            app.screen.action_end()
            await pilot.pause(0.5)
        app.wait_for_sessions()
        return 100 * cpu


async def screenshots(out_dir: Path) -> list[Path]:
    """Set-up, live (mid-turn, Sam's alert) and report screens at 80×24 and 120×40, as SVG and PNG."""
    import shutil
    import subprocess

    sys.path.insert(0, str(REPO / "tests"))
    from test_ui_support import FIXED_NOW, run_until_idle, sample, stepped_app

    from facilitator.ui.report import ReportScreen

    out_dir.mkdir(parents=True, exist_ok=True)
    devices = [{"index": 0, "name": "Built-in microphone", "channels": 2, "rate_hz": 48000, "default": True}]
    made = []
    for width, height in ((80, 24), (120, 40)):
        with tempfile.TemporaryDirectory() as tmp:
            shots = {}
            app = make_app(SessionPlan(history=False), devices=lambda: devices)
            async with app.run_test(size=(width, height)) as pilot:
                await pilot.pause(0.2)
                shots["setup"] = app.export_screenshot()
            app, source = stepped_app(sample("open-2.mics.flac"), out_dir=f"{tmp}/live")
            async with app.run_test(size=(width, height)) as pilot:
                await run_until_idle(pilot, source, 6.0)
                shots["live"] = app.export_screenshot()
            plan = _plan(f"{tmp}/report", None).with_changes(turn_s=30.0, session_id="20261123-184500-open-2")
            app = make_app(plan, show_setup=False, clock_now=lambda: FIXED_NOW)
            async with app.run_test(size=(width, height)) as pilot:
                while not isinstance(app.screen, ReportScreen):
                    await pilot.pause(0.05)
                shots["report"] = app.export_screenshot()
        for name, svg in shots.items():
            path = out_dir / f"{name}-{width}x{height}.svg"
            # rsvg collapses the leading spaces of text runs unless told to keep them
            path.write_text(svg.replace("<svg class", '<svg xml:space="preserve" class', 1))
            made.append(path)
            if shutil.which("rsvg-convert"):
                subprocess.run(["rsvg-convert", str(path), "-o", str(path.with_suffix(".png"))], check=True)
                made.append(path.with_suffix(".png"))
    return made


def main() -> None:
    if sys.argv[1:2] == ["screenshots"]:
        out = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/facilitator-shots")
        for path in asyncio.run(screenshots(out)):
            print(path)
        return
    times = asyncio.run(key_presses())
    ms = sorted(1000 * t for t in times)
    print(f"key press handled at 20× speed: median {statistics.median(ms):.1f} ms, "
          f"p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms over {len(ms)} presses")
    print(f"CPU of the app replaying at real time: {asyncio.run(cpu_at_real_time()):.1f} % of one core")


if __name__ == "__main__":
    main()
