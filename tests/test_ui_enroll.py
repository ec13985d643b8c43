"""Shared-mic enrollment in the app: the set-up screen's Enroll step, driven with Pilot.

The microphone is replaced by an injected source of speech (Alex's own mic of open-2.mics.flac),
so the recording, the speech count and the stored profile are those of a real voice.
"""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import Button, ProgressBar, Static

from test_ui_support import SteppedSource, sample  # noqa: I001

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SIZE = (100, 30)
DEVICES = [{"index": 0, "name": "Built-in microphone", "channels": 1, "rate_hz": 48000, "default": True}]


def alex_voice() -> np.ndarray:
    """Channel 0 of open-2.mics.flac: Alex close to the mic (Sam faint behind)."""
    return sample("open-2.mics.flac")[:, :1].copy()


def voices_app(source_factory):
    from facilitator.ui import SessionPlan, make_app

    plan = SessionPlan(names=["Alex", "Sam"], mode="voices", history=False)
    return make_app(plan, devices=lambda: DEVICES, enroll_source=source_factory)


async def wait_for(pilot, condition, timeout_s: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def open_enrollment(pilot, app, index: int = 0):
    from facilitator.ui.enroll import EnrollScreen

    await wait_for(pilot, lambda: bool(app.screen.query(f"#enroll-{index}")))
    await pilot.click(f"#enroll-{index}")
    await wait_for(pilot, lambda: isinstance(app.screen, EnrollScreen))
    return app.screen


def stored(home) -> list[str]:
    voices = home / "voices"
    return sorted(p.name for p in voices.iterdir()) if voices.exists() else []


async def test_that_was_clear_stores_a_profile_for_that_name(private_home):
    from facilitator.sources import ArraySource
    from facilitator.ui.setup import SetupScreen
    from facilitator.voices import profile

    devices_asked = []

    def factory(device):
        devices_asked.append(device)
        return ArraySource(alex_voice())

    app = voices_app(factory)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.query("#enroll-0")))
        assert "no voice yet" in str(app.screen.query_one("#enroll-0").parent.query_one(Static).render())
        screen = await open_enrollment(pilot, app)
        assert "Alex, please read this aloud" in text_of(app, "#enroll-ask")
        keep = screen.query_one("#enroll-clear", Button)
        await wait_for(pilot, lambda: not keep.disabled)
        bar = screen.query_one("#enroll-progress", ProgressBar)
        assert bar.percentage == 1.0  # 100 % of the speech target
        assert screen.speech_s >= 15.0
        assert "15.0 of 15 s of speech" in text_of(app, "#enroll-speech")
        await pilot.click("#enroll-clear")
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        assert stored(private_home) == ["Alex.npz"]
        prof = profile.load(profile.profile_path("Alex"))
        assert prof.name == "Alex" and prof.speech_s >= 10.0
        # the set-up screen now shows the stored voice, with re-enroll
        await wait_for(pilot, lambda: any(str(b.label) == "re-enroll" for b in app.screen.query("#enroll-0")))
        row = app.screen.query_one("#enroll-0").parent.query_one(Static)
        assert "voice stored ✓" in str(row.render())
        assert "no voice yet" in str(app.screen.query_one("#enroll-1").parent.query_one(Static).render())
    assert devices_asked == [0] or devices_asked == [None]
    # only the profile's numbers were written: no audio anywhere in the data directory
    written = [p for p in private_home.rglob("*") if p.is_file()]
    assert [p.name for p in written] == ["Alex.npz"]
    with np.load(written[0]) as data:
        assert set(data.files) == {"format", "name", "n_frames", "weights", "means", "variances"}


async def test_try_again_stores_nothing_and_records_afresh(private_home):
    from facilitator.sources import ArraySource
    from facilitator.ui.setup import SetupScreen

    made = []

    def factory(device):
        made.append(ArraySource(alex_voice()))
        return made[-1]

    app = voices_app(factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_enrollment(pilot, app)
        keep = screen.query_one("#enroll-clear", Button)
        await wait_for(pilot, lambda: not keep.disabled)
        first = screen.audio
        await pilot.click("#enroll-again")
        assert screen.attempt == 2 and screen.audio is not first  # the first recording is dropped
        await wait_for(pilot, lambda: len(made) == 2 and not keep.disabled)
        assert stored(private_home) == []
        await pilot.press("escape")  # back to set-up without keeping anything
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    assert stored(private_home) == []


async def test_a_stored_voice_is_shown_and_can_be_re_enrolled(private_home):
    from facilitator.sources import ArraySource
    from facilitator.voices import profile

    profile.save(profile.enroll("Sam", [sample("open-2.mics.flac")[:, 1][: 16000 * 25]]))
    app = voices_app(lambda device: ArraySource(alex_voice()))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.query("#enroll-1")))
        assert "voice stored ✓" in str(app.screen.query_one("#enroll-1").parent.query_one(Static).render())
        assert str(app.screen.query_one("#enroll-1", Button).label) == "re-enroll"
        screen = await open_enrollment(pilot, app, index=1)
        assert screen.person == "Sam"


async def test_no_device_is_one_clear_line(private_home):
    from facilitator.errors import UserError

    def no_mic(device):
        raise UserError("no usable input device (Error querying device -1)")

    app = voices_app(no_mic)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_enrollment(pilot, app)
        await wait_for(pilot, lambda: "no usable input device" in text_of(app, "#enroll-status"))
        assert "\n" not in text_of(app, "#enroll-status")
        assert screen.query_one("#enroll-clear", Button).disabled
    assert stored(private_home) == []


async def test_voices_list_only_in_shared_mic_mode(private_home):
    from facilitator.ui import SessionPlan, make_app

    app = make_app(SessionPlan(history=False), devices=lambda: DEVICES)
    async with app.run_test(size=SIZE) as pilot:
        assert not app.screen.query_one("#voices-row").display
        await pilot.click("#mode-voices")
        await wait_for(pilot, lambda: bool(app.screen.query("#enroll-1")))
        assert app.screen.query_one("#voices-row").display


def test_recording_counts_speech_not_silence():
    """Silence fills no progress: 10 s of zeros then speech needs the same speech to finish."""
    from facilitator.sources import ArraySource
    from facilitator.voices.recording import record

    voice = alex_voice()
    padded = np.concatenate([np.zeros((16000 * 10, 1), np.int16), voice])
    seen = []
    audio = record(ArraySource(padded), speech_target_s=15.0, on_progress=seen.append)
    plain = record(ArraySource(voice), speech_target_s=15.0)
    assert seen[-1].speech_s >= 15.0 and seen[-1].fraction == 1.0
    assert len(audio) - len(plain) == pytest.approx(16000 * 10, abs=16000 * 0.5)
    assert max(p.speech_s for p in seen if p.heard_s <= 10.0) == 0.0


def test_snapshot_enrollment_mid_recording(snap_compare):
    """Alex's enrollment after 8 s of his mic: the text, the bar part-way, the live level."""
    from facilitator.ui.enroll import EnrollScreen

    source = SteppedSource(alex_voice(), name="microphone")
    app = voices_app(lambda device: source)

    async def run_before(pilot):
        screen = await open_enrollment(pilot, app)
        assert isinstance(screen, EnrollScreen)
        source.release(8.0)
        await wait_for(pilot, lambda: source.idle.is_set() and source._read >= 8 * 16000)
        await wait_for(pilot, lambda: screen.speech_s > 0)
        for _ in range(5):
            await pilot.pause(0.05)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
