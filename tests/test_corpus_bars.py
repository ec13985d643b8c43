"""The foundation's accuracy bars, measured on the shared corpus (skipped without it).

Each test replays real recordings through the CLI, exactly as a user would, and scores the session
directories with ``facilitator.evaluate``.
"""

from __future__ import annotations

import json

import pytest

from facilitator.cli import main
from facilitator.evaluate import detection_error, evaluate, read_events_tsv, read_rttm

pytestmark = pytest.mark.corpus

MICS = ("open-2a", "open-3a", "rr-2a")
SHARED = ("open-2a", "open-2b", "open-3a", "open-4a", "rr-2a", "rr-2q")
AMI = ("dev00", "dev01", "trn00", "trn01", "trn02", "trn03", "trn04", "trn05", "trn06", "trn07",
       "trn08", "trn09", "tst00", "tst01")


def speakers_of(corpus, conversation):
    spec = json.loads((corpus / "conversations" / "spec.json").read_text())
    return next(c["speakers"] for c in spec if c["id"] == conversation)


def replay(path, out, *args):
    assert main(["replay", str(path), "--out", str(out), "-q", "--no-history", *args]) == 0
    return out


def test_channels_mode_bars(corpus, tmp_path):
    """DER ≤ 3 %, floor-share error ≤ 0.5 pt, interruption F1 ≥ 0.85, backchannel F1 ≥ 0.8."""
    dirs = [replay(corpus / "conversations" / f"{c}.mics.flac", tmp_path / c,
                   "--mode", "channels", "--speakers", ",".join(speakers_of(corpus, c)))
            for c in MICS]
    report = evaluate(corpus / "conversations" / "conversations.rttm", dirs,
                      corpus / "conversations" / "events.tsv")
    totals = report.totals
    print(json.dumps({k: totals[k] for k in ("der", "share_error_pts", "interruption", "backchannel")}))
    assert totals["der"] <= 0.03
    assert totals["share_error_pts"] <= 0.5
    assert totals["interruption"]["f1"] >= 0.85
    assert totals["backchannel"]["f1"] >= 0.8


def test_round_robin_turns_on_rr_2a(corpus, tmp_path):
    """Four turns, alternating holders, each ≈ 60 s of the holder's floor, every placed
    interruption of a turn found (same interrupter, within 1 s)."""
    names = speakers_of(corpus, "rr-2a")
    out = replay(corpus / "conversations" / "rr-2a.mics.flac", tmp_path / "rr",
                 "--mode", "channels", "--speakers", ",".join(names),
                 "--protocol", "round-robin", "--turn-s", "60")
    summary = json.loads((out / "session.json").read_text())
    turns = summary["turns"]
    assert [t["holder"] for t in turns] == [names[0], names[1], names[0], names[1]]
    for turn in turns:
        assert abs(turn["floor_s"] - 60.0) <= 3.0, turn
    alerts = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    alerts = [e for e in alerts if e["kind"] == "turn_interruption"]
    placed = [e for e in read_events_tsv(corpus / "conversations" / "events.tsv")["rr-2a"]
              if e["kind"] == "interruption"]
    for ref in placed:
        assert any(a["who"] == ref["who"] and abs(a["t_s"] - ref["t_s"]) <= 1.0 for a in alerts), ref


def test_vad_detection_error_on_ami_and_conversations(corpus, tmp_path):
    """Speech detection error ≤ 10 % (collar 0.25 s) on the 14 AMI clips + six shared-mic files,
    pooled like pyannote pools files: all missed + false-alarm seconds over all reference speech."""
    missed = false_alarm = total = 0.0
    for rttm, folder, names in ((corpus / "ami" / "ami.rttm", "ami", AMI),
                                (corpus / "conversations" / "conversations.rttm", "conversations",
                                 SHARED)):
        reference = read_rttm(rttm)
        for name in names:
            out = replay(corpus / folder / f"{name}.flac", tmp_path / name, "--mode", "solo")
            hyp = read_rttm(out / "segments.rttm").get(name, [])
            score = detection_error(reference[name], hyp, collar_s=0.25)
            missed += score["missed"]
            false_alarm += score["false_alarm"]
            total += score["total"]
    error = (missed + false_alarm) / total
    print(f"VAD detection error {error:.4f} (missed {missed / total:.4f}, "
          f"false alarm {false_alarm / total:.4f})")
    assert error <= 0.10
