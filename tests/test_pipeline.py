"""The pipeline end to end on real audio files: sources, VAD, channels mode, journal, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from facilitator.attribution import ChannelAttributor, SoloAttributor
from facilitator.cli import main
from facilitator.journal import JournalWriter, read_journal
from facilitator.ledger import Ledger
from facilitator.pipeline import Pipeline
from facilitator.settings import Settings
from facilitator.sources import ArraySource, FileSource
from facilitator.vad import Hysteresis, NoiseFloor, SpeechDetector

from conftest import REPO, SAMPLES


def tone_bursts(bursts, total_s, rate=16000, level=0.3, seed=0):
    """Speech-like noise bursts (voiced band) over a quiet noise floor."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.0005, int(total_s * rate)).astype(np.float32)
    t = np.arange(int(total_s * rate)) / rate
    for a, b in bursts:
        sl = slice(int(a * rate), int(b * rate))
        f0 = 140 + 20 * np.sin(2 * np.pi * 3 * t[sl])
        voice = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 12))
        x[sl] += level * 0.3 * voice * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t[sl]) ** 2)
    return x


def test_hysteresis_bridges_short_pauses_and_drops_blips():
    h = Hysteresis(onset_n=3, offset_n=4)
    votes = [1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    for v in votes:
        h.push(bool(v))
    h.finish()
    assert [int(x) for x in h.out] == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]


def test_noise_floor_is_the_sliding_minimum():
    floor = NoiseFloor(window_n=3)
    assert [floor.update(e) for e in [5, 3, 4, 6, 7, 1]] == [5, 3, 3, 3, 4, 1]


def test_detector_output_is_in_order_and_independent_of_block_size():
    x = (tone_bursts([(0.5, 2.0), (3.0, 4.5)], 6.0) * 32767).astype(np.int16)[:, None]
    results = []
    for block in (160, 4800, len(x)):
        det = SpeechDetector(1, Settings())
        flags, next_index = [], 0
        for i in range(0, len(x), block):
            out = det.push(x[i:i + block])
            if out is not None:
                assert out.start_index == next_index
                next_index += len(out)
                flags.append(out.speech[:, 0])
        out = det.flush()
        if out is not None:
            flags.append(out.speech[:, 0])
        results.append(np.concatenate(flags))
    assert all(np.array_equal(results[0], r) for r in results[1:])
    speech_s = results[0].sum() * 0.03
    assert 2.6 < speech_s < 3.6, speech_s


def run_file(path, attributor, mode="channels", **kw):
    source = FileSource(path, mono=(mode != "channels"), **kw)
    events: list[dict] = []
    pipe = Pipeline(source, attributor, Settings(), sinks=[events.append], mode=mode,
                    crosstalk_rejection=(mode == "channels"))
    return pipe.run(), events


def test_channels_mode_credits_each_voice_to_its_own_mic_only():
    """open-2.mics: each channel has the other voice at -18 dB; floor times must match the truth."""
    result, _ = run_file(SAMPLES / "open-2.mics.flac", ChannelAttributor(["Alex", "Sam"]))
    truth = {"Alex": 0.0, "Sam": 0.0}
    for line in (SAMPLES / "samples.rttm").read_text().splitlines():
        f = line.split()
        if f[1] == "open-2":
            truth[f[7]] += float(f[4])
    summary = result.summary()
    for spk in summary["speakers"]:
        assert spk["floor_s"] == pytest.approx(truth[spk["name"]], rel=0.12), spk
    # no voice is credited to both people for long: overlap stays near the true overlap
    assert summary["overlap_s"] < 6.0


def test_replay_is_identical_at_any_block_size_and_pacing():
    """Instant replay and a paced replay (as live) give exactly the same events."""
    fast, fast_events = run_file(SAMPLES / "open-2.mics.flac", ChannelAttributor(["Alex", "Sam"]))
    fake_now = [0.0]
    paced, paced_events = run_file(SAMPLES / "open-2.mics.flac", ChannelAttributor(["Alex", "Sam"]),
                                   speed=1.0, block_s=0.032, clock=lambda: fake_now[0],
                                   sleep=lambda s: fake_now.__setitem__(0, fake_now[0] + s))
    strip = lambda evs: [e for e in evs if e["kind"] != "session_start"]  # noqa: E731
    assert strip(fast_events) == strip(paced_events)
    assert fake_now[0] == pytest.approx(fast.duration_s, abs=0.1)  # paced at real time


def test_resampled_and_multichannel_input(tmp_path):
    """A 44.1-kHz stereo file is resampled to 16 kHz and downmixed for a shared mic."""
    x = tone_bursts([(0.5, 2.5)], 4.0, rate=44100)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([x, x], axis=1), 44100)
    src = FileSource(path, mono=True)
    total = sum(len(b) for b in src.blocks())
    assert src.channels == 1 and abs(total - 4.0 * 16000) < 50
    result, _ = run_file(path, SoloAttributor(), mode="solo")
    assert result.summary()["speakers"][0]["floor_s"] == pytest.approx(2.0, abs=0.4)


def test_journal_holds_every_event_and_folds_to_the_same_summary(tmp_path):
    path = tmp_path / "events.jsonl"
    journal = JournalWriter(path)
    source = FileSource(SAMPLES / "open-2.mics.flac")
    pipe = Pipeline(source, ChannelAttributor(["Alex", "Sam"]), Settings(), sinks=[journal],
                    mode="channels", crosstalk_rejection=True)
    result = pipe.run()
    journal.close()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    ledger = Ledger()
    for event in read_journal(path):
        ledger.apply(event)
    live, folded = result.summary(), ledger.summary(result.duration_s)
    assert folded["speakers"] == live["speakers"]
    assert folded["interruptions"] == live["interruptions"]


def test_array_source_runs_without_files():
    x = tone_bursts([(0.5, 3.0)], 4.0)
    pipe = Pipeline(ArraySource(x), SoloAttributor("me"), Settings())
    summary = pipe.run().summary()
    assert summary["speakers"][0]["floor_s"] == pytest.approx(2.5, abs=0.4)


# ------------------------------------------------------------------- CLI
def test_replay_cli_writes_the_session_files(tmp_path, capsys):
    out = tmp_path / "session"
    code = main(["replay", str(SAMPLES / "open-2.mics.flac"), "--speakers", "Alex,Sam",
                 "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Alex" in printed and "Sam" in printed
    summary = json.loads((out / "session.json").read_text())
    assert summary["format"] == "facilitator.session/1"
    for key in ("duration_s", "speakers", "interruptions", "backchannels", "overlap_s", "silence_s",
                "balance_index", "protocol", "turns"):
        assert key in summary
    for key in ("name", "floor_s", "share", "turns", "longest_turn_s", "interruptions_made",
                "interruptions_received", "backchannels"):
        assert key in summary["speakers"][0]
    rttm = (out / "segments.rttm").read_text().splitlines()
    assert rttm and all(line.startswith("SPEAKER open-2 1 ") for line in rttm)
    for name in ("session.json", "segments.rttm", "events.jsonl"):
        assert oct((out / name).stat().st_mode & 0o777) == "0o600"
    assert oct(out.stat().st_mode & 0o777) == "0o700"


def test_solo_mode_refuses_several_names(tmp_path, capsys):
    assert main(["replay", str(SAMPLES / "rr-2.flac"), "--speakers", "Alex,Sam", "--mode", "solo",
                 "--out", str(tmp_path / "rr"), "-q", "--no-history"]) == 2
    assert "cannot tell people apart" in capsys.readouterr().err


@pytest.mark.parametrize("make, args, needle", [
    (None, [], "no such file"),
    (lambda p: p.write_text("not audio at all"), [], "cannot read"),
    (lambda p: p.write_bytes(b""), [], "cannot read"),
    ("mono", ["--mode", "channels", "--speakers", "A,B"], "one channel per person"),
    ("mono", ["--speakers", "A,,B"], "empty name"),
    ("mono", ["--protocol", "round-robin", "--turn-s", "-5"], "turn length"),
    ("mono", ["--speed", "0"], "speed"),
])
def test_bad_input_gives_one_clear_line_and_nonzero_exit(tmp_path, make, args, needle):
    path = tmp_path / "input.wav"
    if make == "mono":
        sf.write(path, tone_bursts([(0.2, 0.8)], 1.0), 16000)
    elif make is not None:
        make(path)
    proc = subprocess.run([sys.executable, "-m", "facilitator.cli", "replay", str(path), *args,
                           "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert needle in lines[0]


def test_core_imports_neither_textual_nor_sounddevice():
    """The core (and replay) must run without the UI toolkit or PortAudio."""
    code = ("import sys, facilitator.pipeline, facilitator.tracker, facilitator.vad, "
            "facilitator.sources, facilitator.ledger, facilitator.journal, facilitator.cli, "
            "facilitator.commands.replay\n"
            "bad = [m for m in ('textual', 'sounddevice') if m in sys.modules]\n"
            "print(','.join(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_replay_works_without_portaudio(tmp_path):
    """Make 'import sounddevice' fail as it does without libportaudio2: replay must not care."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    env = {"PYTHONPATH": f"{shim}:{REPO}", "FACILITATOR_HOME": str(tmp_path / "home"),
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "facilitator.cli", "replay",
                           str(SAMPLES / "open-2.flac"), "--out", str(tmp_path / "o"), "-q"],
                          capture_output=True, text=True, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "facilitator.cli", "devices"],
                          capture_output=True, text=True, cwd=REPO, env=env)
    assert proc.returncode == 2 and "PortAudio" in proc.stderr and "Traceback" not in proc.stderr


def test_full_replay_with_reports_and_history_opens_no_network_connection(tmp_path, monkeypatch):
    """Any socket connect during a whole replay + report + history row fails the test."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError(f"network connection attempted: {args!r}")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    out = tmp_path / "s"
    assert main(["replay", str(SAMPLES / "open-2.mics.flac"), "--speakers", "Alex,Sam",
                 "--out", str(out), "-q"]) == 0
    for name in ("session.json", "events.jsonl", "segments.rttm", "report.html", "report.md",
                 "segments.csv"):
        assert (out / name).exists(), name


def test_leading_digital_silence_does_not_change_the_result():
    """A microphone often starts with a few frames of zeros: the result must not depend on them."""
    x = (tone_bursts([(0.5, 2.0), (3.0, 4.5)], 6.0, seed=3) * 32767).astype(np.int16)
    plain = Pipeline(ArraySource(x), SoloAttributor("me"), Settings()).run().summary()
    padded = np.concatenate([np.zeros(16000, dtype=np.int16), x])
    shifted = Pipeline(ArraySource(padded), SoloAttributor("me"), Settings()).run().summary()
    assert shifted["speakers"][0]["floor_s"] == pytest.approx(plain["speakers"][0]["floor_s"], abs=0.031)


def test_live_without_a_terminal_or_with_an_unknown_device_says_one_line(tmp_path):
    """The app must not open (and hang) where it cannot work: one line and exit 2 instead."""
    env = {**__import__("os").environ, "FACILITATOR_HOME": str(tmp_path / "home")}
    for args in (["live", "--no-setup"], ["replay", str(SAMPLES / "open-2.flac"), "--tui"]):
        proc = subprocess.run([sys.executable, "-m", "facilitator.cli", *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            "facilitator: error: the app needs a terminal; for a run without one use "
            "'facilitator replay FILE' (it prints the summary)"]
    from facilitator.commands.live import _check_input_device
    from facilitator.errors import UserError

    with pytest.raises(UserError):  # no such device here (or, without a sound server, none at all)
        _check_input_device(99)
