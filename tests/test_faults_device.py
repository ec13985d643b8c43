"""Device faults: PortAudio missing, no input device, the device lost mid-session (and resumed).

The real-microphone case runs the capture in a subprocess on a private PulseAudio null sink
(``vmicfault``, so the shared ``vmic``/``vmic2`` of other tests are never touched): the test stalls it
(``pactl suspend-sink``) mid-capture, expects one clear line and the session so far on disk, resumes
on the same device with the same counts, then unloads the sink module mid-capture.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from faults_table import fault
from facilitator.errors import UserError
from facilitator.journal import JournalWriter, read_journal
from facilitator.microphone import DeviceLost
from facilitator.pipeline import Pipeline
from facilitator.recovery import find_unfinished, recover, save_so_far
from facilitator.settings import settings_from
from facilitator.sources import ArraySource

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
VIRTUAL_MIC = REPO.parent / "shared" / "tools" / "virtual-mic.sh"


def run_cli(args: list[str], env_extra: dict | None = None, pythonpath: Path | None = None):
    env = dict(os.environ, **(env_extra or {}))
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), str(REPO)])
    return subprocess.run([sys.executable, "-m", "facilitator.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def one_line_error(proc) -> str:
    err = proc.stderr.strip()
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    return err


@fault("PortAudio missing (import sounddevice raises OSError)", "one line naming libportaudio2, exit 2")
def test_portaudio_missing(tmp_path, observed):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    proc = run_cli(["devices"], pythonpath=shim)
    err = one_line_error(proc)
    assert proc.returncode == 2 and "libportaudio2" in err
    # replay still works without PortAudio
    ok = run_cli(["replay", str(SAMPLES / "open-2.flac"), "--out", str(tmp_path / "s"), "-q",
                  "--no-history"], pythonpath=shim)
    assert ok.returncode == 0, ok.stderr
    observed(err)


FAKE_NO_DEVICES = '''
class PortAudioError(Exception):
    pass

class _Default:
    device = (-1, -1)

default = _Default()

def query_devices(device=None, kind=None):
    if device is None and kind is None:
        return []
    raise PortAudioError("Error querying device -1")

def check_input_settings(**kwargs):
    raise PortAudioError("Invalid device [PaErrorCode -9996]")

def InputStream(**kwargs):
    raise PortAudioError("Invalid device [PaErrorCode -9996]")
'''


@fault("no input device at all", "devices: says none found; capture: one clear line, exit 2")
def test_no_input_device(tmp_path, observed):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sounddevice.py").write_text(FAKE_NO_DEVICES)
    listing = run_cli(["devices"], pythonpath=shim)
    assert listing.returncode == 1 and "no audio input devices found" in listing.stdout
    assert "Traceback" not in listing.stderr
    probe = subprocess.run(
        [sys.executable, "-c", textwrap.dedent("""
            import sys
            from facilitator.errors import UserError
            from facilitator.microphone import MicrophoneSource
            for device in (None, "USB mic", 3):
                try:
                    MicrophoneSource(device)
                except UserError as exc:
                    print(exc)
            sys.exit(2)
            """)],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(shim), str(REPO)])),
        capture_output=True, text=True, timeout=60)
    lines = probe.stdout.strip().splitlines()
    assert probe.returncode == 2 and len(lines) == 3, probe
    assert "no usable input device" in lines[0] and "no input device named 'USB mic'" in lines[1]
    assert "no input device with index 3" in lines[2]
    assert "Traceback" not in probe.stderr
    observed(f"{listing.stdout.strip()} / " + " / ".join(lines))


class LosingSource:
    """Yields the first ``lose_after`` blocks of an array, then fails like an unplugged microphone."""

    def __init__(self, samples: np.ndarray, lose_after: int, block: int = 480):
        self.inner = ArraySource(samples, name="microphone", block_samples=block)
        self.name, self.channels, self.sample_rate_hz = "microphone", self.inner.channels, 16000
        self.lose_after = lose_after
        self.overflows = 3

    def blocks(self):
        for i, block in enumerate(self.inner.blocks()):
            if i == self.lose_after:
                raise DeviceLost("the microphone stopped sending audio (unplugged?); the session so far "
                                 "is kept — reconnect it and resume")
            yield block

    def stop(self):
        self.inner.stop()


def _pipeline(source, journal, names=("Alex", "Sam")):
    from facilitator.commands.replay import build_attributor

    settings = settings_from(protocol="round-robin", turn_s=30.0)
    return Pipeline(source, build_attributor("channels", list(names), source.channels), settings,
                    sinks=[journal], session_id="lost", mode="channels", crosstalk_rejection=True)


@fault("device lost mid-session, then resumed (in process)",
       "one line; session so far kept; resume continues the same counts exactly")
def test_device_lost_then_resume_keeps_counts(tmp_path, observed):
    audio, _ = sf.read(SAMPLES / "open-2.mics.flac", dtype="int16")
    # the uninterrupted session
    ref_journal = JournalWriter(tmp_path / "ref.jsonl")
    ref = _pipeline(ArraySource(audio, name="microphone", block_samples=480), ref_journal).run()
    ref_journal.close()

    session = tmp_path / "session"
    session.mkdir()
    journal = JournalWriter(session / "events.jsonl")
    lose_at = 1000  # blocks of 30 ms: 30 s in
    pipeline = _pipeline(LosingSource(audio, lose_at), journal)
    with pytest.raises(DeviceLost) as lost:
        pipeline.run()
    kept = save_so_far(pipeline, session, "microphone")
    assert json.loads((session / "session.json").read_text())["complete"] is False
    assert kept["duration_s"] == pytest.approx(30.0)
    assert find_unfinished(tmp_path) == []  # still held by this process: not offered for recovery
    # resume on "another device": the rest of the same audio
    pipeline.resume(ArraySource(audio[lose_at * 480:], name="microphone-2", block_samples=480))
    result = pipeline.run()
    journal.close()
    assert result.overflows == 3
    got = result.summary()
    want = ref.summary()
    for key in ("duration_s", "speech_s", "overlap_s", "speakers", "interruptions", "backchannels", "turns"):
        assert got[key] == want[key], key
    events = [e for e in read_journal(session / "events.jsonl")
              if e["kind"] not in ("input_lost", "input_resumed")]
    ref_events = list(read_journal(tmp_path / "ref.jsonl"))
    assert [e for e in events if e["kind"] != "session_start"] == \
        [e for e in ref_events if e["kind"] != "session_start"]
    notes = [e["note"] for e in read_journal(session / "events.jsonl")
             if e["kind"] in ("input_lost", "input_resumed")]
    assert notes[0].startswith("input lost") and notes[1] == "input resumed: microphone-2"
    with pytest.raises(UserError, match="channel"):
        pipeline.resume(ArraySource(audio[:, :1]))
    observed(f"'{lost.value}'; kept {kept['duration_s']:.0f} s; after resume identical to the "
             f"uninterrupted run ({got['duration_s']:.1f} s, {len(got['interruptions'])} interruptions)")


@fault("device lost, app killed before resuming", "recover rebuilds the session from the journal")
def test_device_lost_then_killed_is_recoverable(tmp_path, observed):
    audio, _ = sf.read(SAMPLES / "open-2.mics.flac", dtype="int16")
    session = tmp_path / "session"
    session.mkdir()
    journal = JournalWriter(session / "events.jsonl")
    pipeline = _pipeline(LosingSource(audio, 1500), journal)
    with pytest.raises(DeviceLost):
        pipeline.run()
    save_so_far(pipeline, session, "microphone")
    journal.close()  # the process ends here (its lock goes with it)
    assert [u.path for u in find_unfinished(tmp_path)] == [session]
    summary = recover(session, history=False)
    assert summary["duration_s"] == pytest.approx(45.0, abs=1.0)
    assert find_unfinished(tmp_path) == []
    observed(f"recovered {summary['duration_s']:.0f} s")


# ---------------------------------------------------------------- the real microphone path

CAPTURE = r'''
import json, os, sys, threading, time
from pathlib import Path
from facilitator.attribution import SoloAttributor
from facilitator.journal import JournalWriter
from facilitator.microphone import DeviceLost, MicrophoneSource
from facilitator.pipeline import Pipeline
from facilitator.recovery import save_so_far
from facilitator.session_files import write_summary_files
from facilitator.settings import settings_from

session = Path(sys.argv[1])
session.mkdir(exist_ok=True)
journal = JournalWriter(session / "events.jsonl")
pipeline = Pipeline(MicrophoneSource("pulse", get_timeout_s=1.0), SoloAttributor("Alex"),
                    settings_from(), sinks=[journal], session_id="vmic", mode="solo")

def stop_when_asked():
    while not (session / "stop").exists():
        time.sleep(0.05)
    pipeline.request("stop")

threading.Thread(target=stop_when_asked, daemon=True).start()
while True:
    try:
        result = pipeline.run()
        break
    except DeviceLost as exc:
        print(f"facilitator: {exc}", file=sys.stderr, flush=True)
        save_so_far(pipeline, session, "microphone")
        (session / "lost").write_text("1")
        while not (session / "go").exists():
            time.sleep(0.05)
        pipeline.resume(MicrophoneSource("pulse", get_timeout_s=1.0))
journal.close()
summary = result.summary()
write_summary_files(session, summary, result.ledger.closed_segments(result.duration_s), "microphone")
print(json.dumps({"duration_s": result.duration_s, "overflows": result.overflows}))
'''


@pytest.fixture
def fault_sink():
    """A private PulseAudio null sink ``vmicfault``; yields a function that says if it is loaded."""
    if not shutil.which("pactl") or not VIRTUAL_MIC.exists():
        pytest.skip("PulseAudio (pactl) or ../shared/tools/virtual-mic.sh not available")
    started = subprocess.run(["bash", str(VIRTUAL_MIC)], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.skip(f"virtual mic did not start: {started.stderr.strip()}")
    module = subprocess.run(["pactl", "load-module", "module-null-sink", "sink_name=vmicfault",
                             "rate=16000", "channels=1", "format=s16le", "norewinds=1"],
                            capture_output=True, text=True, check=True).stdout.strip()
    state = {"module": module}
    yield state
    if state["module"]:
        subprocess.run(["pactl", "unload-module", state["module"]], capture_output=True)


def _heartbeats(session: Path) -> list[float]:
    journal = session / "events.jsonl"
    if not journal.exists():
        return []
    return [e["t_s"] for e in read_journal(journal) if e["kind"] == "heartbeat"]


def _wait(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.mic
@fault("microphone stalls mid-capture (virtual mic suspended), resumed; then its sink is unloaded",
       "one line; session so far kept on disk; resume keeps counts; unload: stream carries on")
def test_virtual_mic_lost_and_resumed(tmp_path, fault_sink, observed):
    session = tmp_path / "session"
    env = dict(os.environ, PULSE_SOURCE="vmicfault.monitor", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", CAPTURE, str(session)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: len(_heartbeats(session)) >= 3, 20, "3 s of capture")
        subprocess.run(["pactl", "suspend-sink", "vmicfault", "1"], check=True)
        _wait(lambda: (session / "lost").exists() or proc.poll() is not None, 15,
              f"the loss to be noticed ({len(_heartbeats(session))} s captured)")
        assert proc.poll() is None, proc.communicate()
        kept = json.loads((session / "session.json").read_text())
        assert kept["complete"] is False and kept["duration_s"] >= 3.0
        before = len(_heartbeats(session))
        subprocess.run(["pactl", "suspend-sink", "vmicfault", "0"], check=True)
        (session / "go").write_text("1")
        _wait(lambda: len(_heartbeats(session)) >= before + 2, 20, "capture to resume")
        # the sink disappears for good: PulseAudio moves the stream to the default source
        subprocess.run(["pactl", "unload-module", fault_sink["module"]], check=True)
        fault_sink["module"] = ""
        after_unload = len(_heartbeats(session))
        time.sleep(2.5)
        carried_on = len(_heartbeats(session)) > after_unload
        (session / "stop").write_text("1")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    beats = _heartbeats(session)
    assert beats == [float(i) for i in range(1, len(beats) + 1)]  # one session, no restart of time
    events = list(read_journal(session / "events.jsonl"))
    assert sum(e["kind"] == "session_start" for e in events) == 1
    notes = [e["note"] for e in events if e["kind"] in ("input_lost", "input_resumed")]
    assert notes[0].startswith("input lost") and notes[1].startswith("input resumed")
    final = json.loads((session / "session.json").read_text())
    assert final["complete"] is True and final["duration_s"] > kept["duration_s"] + 2
    observed(f"'{lines[0]}'; kept {kept['duration_s']:.1f} s, resumed to {final['duration_s']:.1f} s; "
             f"after unload-module the stream {'carried on (moved to the default source)' if carried_on else 'stopped'}")
