"""Crash safety: kill -9 at random moments during a fast replay, then ``facilitator recover``.

Every recovered session must hold exactly the floor times the uninterrupted run had reached at the
recovered session's last journaled moment, and its journal must be a prefix of the uninterrupted one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from faults_table import fault
from facilitator.cli import main
from facilitator.journal import read_journal
from facilitator.recovery import find_unfinished, needs_recovery

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
KILLS = 20
CONFIGS = {
    "open": ["--speakers", "Alex,Sam"],
    "round-robin": ["--speakers", "Alex,Sam", "--protocol", "round-robin", "--turn-s", "30"],
}


def replay_cmd(audio: Path, out: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "facilitator.cli", "replay", str(audio), "--out", str(out),
            "--no-history", "-q", *extra]


def body(journal: Path) -> list[dict]:
    """Journal events after session_start (whose id and wall time differ between runs)."""
    return [e for e in read_journal(journal) if e["kind"] != "session_start"]


def floor_until(events: list[dict], end_s: float) -> dict[str, float]:
    """Each speaker's speech in [0, end_s] according to a journal."""
    floor: dict[str, float] = {}
    open_at: dict[str, float] = {}
    for e in events:
        if e["kind"] == "speech_start":
            open_at[e["speaker"]] = e["t_s"]
        elif e["kind"] == "speech_end":
            start = open_at.pop(e["speaker"])
            floor[e["speaker"]] = floor.get(e["speaker"], 0.0) + max(0.0, min(e["t_s"], end_s) - start)
    for name, start in open_at.items():
        floor[name] = floor.get(name, 0.0) + max(0.0, end_s - start)
    return floor


def wait_for_journal(proc: subprocess.Popen, journal: Path) -> float:
    while not journal.exists():
        assert proc.poll() is None, "the replay ended before writing a journal"
        time.sleep(0.002)
    return time.monotonic()


def tail(path: Path, size: int = 200) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - size))
        return handle.read()


@pytest.fixture(scope="module")
def long_audio(tmp_path_factory) -> Path:
    """15 minutes, two microphones: the open-2 conversation twelve times over."""
    audio, rate = sf.read(SAMPLES / "open-2.mics.flac", dtype="int16")
    path = tmp_path_factory.mktemp("audio") / "long-2.mics.flac"
    sf.write(path, np.concatenate([audio] * 12), rate)
    return path


@fault("kill -9 at 20 random moments of a fast replay, then recover",
       "recovered floor times = uninterrupted run's up to the last journaled moment")
def test_kill_at_random_moments_then_recover(long_audio, tmp_path, observed):
    references = {}
    for name, extra in CONFIGS.items():
        out = tmp_path / f"ref-{name}"
        proc = subprocess.Popen(replay_cmd(long_audio, out, extra), stdout=subprocess.DEVNULL)
        began = wait_for_journal(proc, out / "events.jsonl")
        ended = None
        while proc.poll() is None:
            if ended is None and b"session_end" in tail(out / "events.jsonl"):
                ended = time.monotonic()
            time.sleep(0.005)
        assert proc.returncode == 0
        references[name] = (body(out / "events.jsonl"), (ended or time.monotonic()) - began)

    rng = random.Random(6)
    outcomes = {"before the journal": 0, "mid-replay": 0, "while finishing": 0}
    worst_s = 0.0
    lost_s = []
    for i in range(KILLS):
        name = "open" if i % 2 == 0 else "round-robin"
        ref_events, replay_s = references[name]
        out = tmp_path / f"kill-{i:02d}"
        proc = subprocess.Popen(replay_cmd(long_audio, out, CONFIGS[name]),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # a random moment from the journal's creation to a little past the end of the replay proper
        wait_for_journal(proc, out / "events.jsonl")
        time.sleep(rng.uniform(0.0, replay_s * 1.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        journal = out / "events.jsonl"
        if not journal.exists() or not any(e["kind"] == "session_start" for e in read_journal(journal)):
            outcomes["before the journal"] += 1
            continue
        events = body(journal)
        assert events == ref_events[:len(events)], f"kill {i}: the journal is not a prefix of the full run's"
        finishing = (out / "session.json").exists()
        outcomes["while finishing" if finishing else "mid-replay"] += 1
        if not finishing:
            assert out in [u.path for u in find_unfinished(tmp_path)]
        if needs_recovery(out):
            assert main(["recover", str(out), "--no-history"]) == 0
        summary = json.loads((out / "session.json").read_text())
        reached_s = summary["duration_s"]
        expected = floor_until(ref_events, reached_s)
        got = {s["name"]: s["floor_s"] for s in summary["speakers"]}
        for speaker in set(expected) | set(got):
            diff = abs(got.get(speaker, 0.0) - expected.get(speaker, 0.0))
            worst_s = max(worst_s, diff)
            assert diff <= 0.002, f"kill {i} at {reached_s} s: {speaker} {got.get(speaker)} vs {expected.get(speaker)}"
        # at most the last second is lost: the journal reaches the last heartbeat before the kill
        heartbeats = [e["t_s"] for e in events if e["kind"] == "heartbeat"]
        if heartbeats:
            lost_s.append(reached_s - heartbeats[-1])
            assert reached_s - heartbeats[-1] < 1.0 + 1e-6
        for report in ("report.html", "report.md", "segments.csv", "segments.rttm"):
            assert (out / report).exists(), f"kill {i}: {report} missing after recover"
        assert out not in [u.path for u in find_unfinished(tmp_path)]
    recovered = outcomes["mid-replay"] + outcomes["while finishing"]
    assert recovered >= KILLS // 2, f"too few kills landed mid-session: {outcomes}"
    observed(f"{KILLS} kills: " + ", ".join(f"{n} {k}" for k, n in outcomes.items())
             + f"; all {recovered} recovered match (worst floor diff {worst_s * 1000:.1f} ms, "
             f"reached up to {max(lost_s, default=0):.2f} s past the last heartbeat)")


@fault("recover a killed session: history row and start-up offer",
       "find_unfinished lists it; recover writes summary, reports, one history row; journal unchanged")
def test_recover_writes_history_once_and_leaves_journal(tmp_path, private_home, observed):
    from facilitator.history import query
    from facilitator.paths import sessions_dir

    out = sessions_dir() / "killed"
    subprocess.run(replay_cmd(SAMPLES / "open-2.mics.flac", out, CONFIGS["open"]), check=True,
                   capture_output=True)
    for name in ("session.json", "segments.rttm", "report.html", "report.md", "segments.csv"):
        (out / name).unlink()
    journal = out / "events.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[: len(lines) * 2 // 3]) + lines[len(lines) * 2 // 3][:17])  # torn
    before = journal.read_bytes()
    found = find_unfinished()
    assert [u.path for u in found] == [out]
    assert found[0].reached_s > 30 and not found[0].ended
    assert main(["recover"]) == 0
    assert main(["recover"]) == 0  # nothing left: "no unfinished sessions"
    assert journal.read_bytes() == before
    summary = json.loads((out / "session.json").read_text())
    assert summary["complete"] is False
    stored = query()
    assert len(stored) == 1
    assert find_unfinished() == []
    assert main(["recover", str(out), "--force", "--no-history"]) == 0
    assert len(query()) == 1
    observed(f"recovered {summary['duration_s']:.0f} s of 76 s, 1 history row, journal byte-identical")


@fault("recover: running session, empty journal, not a session dir",
       "one clear line, exit 2, nothing written")
def test_recover_refuses_cleanly(tmp_path, capsys, observed):
    from facilitator.journal import JournalWriter

    live = tmp_path / "live"
    live.mkdir()
    writer = JournalWriter(live / "events.jsonl")
    writer({"kind": "session_start", "t_s": 0.0, "id": "x", "speakers": []})
    assert find_unfinished(tmp_path) == []  # still being written: not offered
    lines = []
    try:
        for target in (live, tmp_path / "missing", tmp_path):
            assert main(["recover", str(target)]) == 2
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1 and "Traceback" not in err
            lines.append(err)
    finally:
        writer.close()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "events.jsonl").write_text('{"kind":"heartbeat","t_s":1.0}\n{"kin')
    assert main(["recover", str(empty)]) == 2
    assert "no session_start" in capsys.readouterr().err
    assert not (live / "session.json").exists() and not (empty / "session.json").exists()
    observed(lines[0].removeprefix("facilitator: error: "))
