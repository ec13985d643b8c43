"""Resources: a full disk while writing the journal or the report; memory and timers over long sessions."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from faults_table import fault
from facilitator.errors import UserError
from facilitator.journal import JournalWriter, read_journal

REPO = Path(__file__).resolve().parents[1]
MICS = REPO / "samples" / "open-2.mics.flac"


def _cli(*args: str):
    return subprocess.run([sys.executable, "-m", "facilitator.cli", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def tiny_disk(tmp_path):
    """A tmpfs of a given size (root only); yields a function size_kib → mount point."""
    mounts = []

    def mount(size_kib: int) -> Path:
        point = tmp_path / f"disk{len(mounts)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
        mounts.append(point)
        return point

    yield mount
    for point in mounts:
        subprocess.run(["umount", str(point)], capture_output=True)


@pytest.mark.parametrize("size_kib,what", [
    pytest.param(4, "journal", marks=fault("disk full while writing the journal (4 KiB tmpfs)",
                                            "one line, exit 2; the journal so far intact and recoverable")),
    pytest.param(40, "report", marks=fault("disk full while writing the summary/report (40 KiB tmpfs)",
                                           "one line, exit 2; journal intact; no torn summary or report")),
])
def test_disk_full(size_kib, what, tiny_disk, tmp_path, observed):
    reference = tmp_path / "ref"
    assert _cli("replay", str(MICS), "--speakers", "Alex,Sam", "--out", str(reference), "-q",
                "--no-history").returncode == 0
    ref_events = [e for e in read_journal(reference / "events.jsonl") if e["kind"] != "session_start"]
    out = tiny_disk(size_kib) / "session"
    proc = _cli("replay", str(MICS), "--speakers", "Alex,Sam", "--out", str(out), "-q", "--no-history")
    err = proc.stderr.strip()
    assert proc.returncode == 2 and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert "full" in err or "No space" in err, err
    events = [e for e in read_journal(out / "events.jsonl") if e["kind"] != "session_start"]
    assert events == ref_events[:len(events)]  # every line written is whole and right
    if what == "journal":
        assert len(events) < len(ref_events)
    else:
        assert len(events) == len(ref_events)
    for name in ("session.json", "report.html", "report.md", "segments.csv", "segments.rttm"):
        path = out / name
        if path.exists():  # whatever exists is complete
            if name == "session.json":
                json.loads(path.read_text())
            assert path.stat().st_size > 0
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [], leftovers
    observed(f"{err.removeprefix('facilitator: error: ')} — journal {len(events)}/{len(ref_events)} events intact; "
             f"files: {sorted(p.name for p in out.iterdir())}")


@fault("ENOSPC from write() mid-journal (patched file)", "UserError 'disk is full'; earlier lines intact")
def test_journal_enospc_patched(tmp_path, observed):
    journal = JournalWriter(tmp_path / "events.jsonl")
    real_write = journal._file.write
    count = {"n": 0}

    def write(text):
        count["n"] += 1
        if count["n"] > 50:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(text)

    journal._file.write = write
    with pytest.raises(UserError, match="disk is full") as caught:
        for i in range(100):
            journal({"kind": "heartbeat", "t_s": float(i)})
    try:
        journal.close()
    except UserError:
        pass
    assert [e["t_s"] for e in read_journal(tmp_path / "events.jsonl")] == [float(i) for i in range(50)]
    observed(str(caught.value))


sys.path.insert(0, str(REPO / "benchmarks"))
from bench_memory import MEASURE, write_long  # noqa: E402  (one copy of the measuring code)


def peak_rss_kib(audio: Path, out: Path) -> int:
    cmd = [sys.executable, "-c", MEASURE, sys.executable, "-m", "facilitator.cli", "replay", str(audio),
           "--speakers", "Alex,Sam", "--out", str(out), "-q", "--no-history"]
    return int(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip())


@fault("60-minute replay vs 10-minute replay: peak memory", "ratio ≤ 1.2 (constant-memory streaming)")
def test_memory_flat_60_vs_10_minutes(tmp_path, observed):
    short = peak_rss_kib(write_long(tmp_path / "m10.mics.flac", 10), tmp_path / "s10")
    long = peak_rss_kib(write_long(tmp_path / "m60.mics.flac", 60), tmp_path / "s60")
    ratio = long / short
    assert ratio <= 1.2, (short, long)
    observed(f"peak RSS 10 min {short / 1024:.0f} MiB, 60 min {long / 1024:.0f} MiB, ratio {ratio:.3f}")


@fault("3-hour round-robin session replayed fast: timers and memory",
       "holder countdown vs stream time drift < 0.1 s; memory flat")
def test_three_hours_countdown_drift_and_memory(tmp_path, observed):
    from facilitator.commands.replay import build_attributor
    from facilitator.pipeline import Pipeline
    from facilitator.settings import settings_from
    from facilitator.sources import FileSource

    audio = write_long(tmp_path / "h3.mics.flac", 180)
    source = FileSource(audio)
    settings = settings_from(protocol="round-robin", turn_s=60.0)
    journal = JournalWriter(tmp_path / "events.jsonl")
    samples: list[dict] = []
    rss: list[tuple[float, int]] = []

    def status(snap: dict) -> None:
        turn = snap.get("turn")
        if turn is not None and len(samples) < 20000:
            samples.append({"t_s": snap["t_s"], "index": turn["index"], "holder": turn["holder"],
                            "left_s": turn["left_s"], "allowance_s": turn["allowance_s"]})
        if not rss or snap["t_s"] - rss[-1][0] >= 600:
            with open("/proc/self/statm") as fh:
                rss.append((snap["t_s"], int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")))

    pipeline = Pipeline(source, build_attributor("channels", ["Alex", "Sam"], 2), settings,
                        sinks=[journal], session_id="h3", mode="channels", crosstalk_rejection=True,
                        status=status, status_every_s=0.1)
    result = pipeline.run()
    journal.close()
    assert result.duration_s == pytest.approx(3 * 3600, abs=0.1)
    # an independent countdown: the holder's speech since the turn began, from the journal's segments
    events = list(read_journal(tmp_path / "events.jsonl"))
    starts = {e["index"]: e["t_s"] for e in events if e["kind"] == "turn_start"}
    segments: dict[str, list[tuple[float, float]]] = {}
    open_at: dict[str, float] = {}
    for e in events:
        if e["kind"] == "speech_start":
            open_at[e["speaker"]] = e["t_s"]
        elif e["kind"] == "speech_end":
            segments.setdefault(e["speaker"], []).append((open_at.pop(e["speaker"]), e["t_s"]))

    def spoken(name: str, a: float, b: float) -> float:
        return sum(max(0.0, min(e, b) - max(s, a)) for s, e in segments.get(name, []))

    # per turn, allowance − left − (holder's speech since turn_start) is a constant (a handover
    # credits the holder's speech from just before turn_start); any change in it is drift
    offsets: dict[int, list[float]] = {}
    for s in samples:
        offsets.setdefault(s["index"], []).append(
            s["allowance_s"] - s["left_s"] - spoken(s["holder"], starts[s["index"]], s["t_s"]))
    ends = [e for e in events if e["kind"] == "turn_end" and e["reason"] == "time_up"]
    for e in ends:  # the turn's own floor at time-up, from the journal, must agree as well
        offsets.setdefault(e["index"], []).append(e["floor_s"] - spoken(e["holder"], starts[e["index"]], e["t_s"]))
    drift = max(max(v) - min(v) for v in offsets.values())
    assert len(samples) > 1000 and len(ends) > 50
    assert drift < 0.1, drift
    growth_mib = (rss[-1][1] - rss[1][1]) / 2**20
    assert growth_mib < 40, rss
    observed(f"{len(samples)} countdown readings over 3 h, {len(ends)} time-up turns: max drift "
             f"{drift * 1000:.1f} ms; RSS 10 min→3 h +{growth_mib:.1f} MiB")
