"""Scoring: hand-made cases whose DER, floor-share error and event F1 are known by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from facilitator import cli
from facilitator import evaluate as ev
from facilitator.errors import UserError

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

REF = [(0.0, 10.0, "A"), (12.0, 13.0, "B")]


def approx(x):
    return pytest.approx(x, abs=1e-9)


# --- DER ------------------------------------------------------------------------------------

def test_perfect_hypothesis_scores_zero():
    d = ev.diarization_error(REF, REF)
    assert d["der"] == approx(0.0)
    assert d["mapping"] == {"A": "A", "B": "B"}
    assert ev.floor_share_error(REF, REF, d["mapping"]) == approx(0.0)
    v = ev.detection_error(REF, REF)
    assert v["error"] == approx(0.0) and v["precision"] == approx(1.0) and v["recall"] == approx(1.0)


def test_swapped_labels_score_zero_thanks_to_mapping():
    hyp = [(0.0, 10.0, "spk1"), (12.0, 13.0, "spk0")]
    d = ev.diarization_error(REF, hyp)
    assert d["der"] == approx(0.0)
    assert d["mapping"] == {"spk1": "A", "spk0": "B"}
    assert ev.floor_share_error(REF, hyp, d["mapping"]) == approx(0.0)
    assert ev.speaker_recall(REF, hyp, d["mapping"]) == {"A": approx(1.0), "B": approx(1.0)}


def test_missed_one_second_segment_without_collar():
    d = ev.diarization_error(REF, REF[:1], collar_s=0.0)
    assert d["total"] == approx(11.0)
    assert d["missed"] == approx(1.0)
    assert d["der"] == approx(1 / 11)


def test_missed_one_second_segment_with_default_collar():
    # pyannote's collar is the total width centred on each reference boundary (±0.125 s):
    # A keeps 0.125..9.875 (9.75 s; nothing before 0 is scored), B keeps 12.125..12.875 (0.75 s).
    d = ev.diarization_error(REF, REF[:1])
    assert d["total"] == approx(10.5)
    assert d["missed"] == approx(0.75)
    assert d["der"] == approx(0.75 / 10.5)


def test_confusion_and_false_alarm_components():
    hyp = [(0.0, 10.0, "A"), (12.0, 13.0, "A"), (20.0, 22.0, "A")]
    d = ev.diarization_error(REF, hyp, collar_s=0.0)
    assert d["confusion"] == approx(1.0)
    assert d["false_alarm"] == approx(2.0)
    assert d["der"] == approx(3 / 11)


def test_overlap_is_scored():
    ref = [(0.0, 10.0, "A"), (5.0, 10.0, "B")]
    hyp = [(0.0, 10.0, "A")]  # misses B's 5 s under A
    d = ev.diarization_error(ref, hyp, collar_s=0.0)
    assert d["total"] == approx(15.0) and d["missed"] == approx(5.0)
    # speech/non-speech only: nothing missed
    assert ev.detection_error(ref, hyp, collar_s=0.0)["error"] == approx(0.0)


def test_detection_error_precision_recall():
    ref = [(0.0, 10.0, "A")]
    hyp = [(5.0, 15.0, "X")]
    v = ev.detection_error(ref, hyp, collar_s=0.0)
    assert v["missed"] == approx(5.0) and v["false_alarm"] == approx(5.0)
    assert v["error"] == approx(1.0)
    assert v["precision"] == approx(0.5) and v["recall"] == approx(0.5)


def test_empty_inputs():
    assert ev.diarization_error([], [])["der"] == 0.0
    assert ev.floor_share_error([], [], {}) == 0.0


# --- floor share ------------------------------------------------------------------------------

def test_floor_share_error_by_hand():
    ref = [(0.0, 9.0, "A"), (10.0, 11.0, "B")]  # shares 0.9 / 0.1
    hyp = [(0.0, 6.0, "x"), (10.0, 14.0, "y")]  # shares 0.6 / 0.4
    assert ev.floor_share_error(ref, hyp, {"x": "A", "y": "B"}) == approx(30.0)


def test_floor_share_counts_overlap_for_each_speaker_and_unions_own_segments():
    ref = [(0.0, 6.0, "A"), (4.0, 10.0, "A"), (5.0, 10.0, "B")]  # A 10 s (not 12), B 5 s
    assert ev.floor_shares(ref) == {"A": approx(2 / 3), "B": approx(1 / 3)}


def test_unmapped_speaker_counts_against_the_hypothesis():
    ref = [(0.0, 9.0, "A"), (10.0, 11.0, "B")]
    hyp = [(0.0, 9.0, "A"), (10.0, 11.0, "unknown")]
    # B's 0.1 share went to "unknown": B is off by 10 points, unknown by 10 points
    assert ev.floor_share_error(ref, hyp, {"A": "A"}) == approx(10.0)


def test_unmapped_speaker_named_like_a_reference_speaker_does_not_count_as_them():
    ref = [(0.0, 9.0, "A"), (10.0, 11.0, "B")]
    hyp = [(0.0, 9.0, "x"), (10.0, 11.0, "B")]
    assert ev.floor_share_error(ref, hyp, {"x": "A"}) == approx(10.0)
    assert ev.speaker_recall(ref, hyp, {"x": "A"})["B"] == approx(0.0)


def test_speaker_recall_by_hand():
    ref = [(0.0, 10.0, "A"), (10.0, 12.0, "Q")]
    hyp = [(0.0, 10.0, "s0"), (10.0, 11.0, "s1"), (11.0, 12.0, "s0")]
    r = ev.speaker_recall(ref, hyp, {"s0": "A", "s1": "Q"})
    assert r == {"A": approx(1.0), "Q": approx(0.5)}


# --- events -----------------------------------------------------------------------------------

def _e(kind, t, who, whom):
    return {"kind": kind, "t_s": t, "who": who, "whom": whom}


REF_EVENTS = [
    _e("interruption", 10.0, "B", "A"),
    _e("interruption", 30.0, "A", "B"),
    _e("backchannel", 20.0, "A", "B"),
    _e("turn_end", 60.0, "A", ""),
]


def test_events_perfect():
    for kind in ("interruption", "backchannel"):
        s = ev.event_f1(REF_EVENTS, REF_EVENTS, kind, None)
        assert (s["precision"], s["recall"], s["f1"], s["fp"], s["fn"]) == (1.0, 1.0, 1.0, 0, 0)
    assert ev.event_f1(REF_EVENTS, REF_EVENTS, "interruption", None)["tp"] == 2


def test_events_within_one_second_match_and_mapping_applies():
    hyp = [_e("interruption", 11.0, "y", "x"), _e("interruption", 29.2, "x", "y")]
    s = ev.event_f1(REF_EVENTS, hyp, "interruption", {"x": "A", "y": "B"})
    assert s["tp"] == 2 and s["f1"] == 1.0


def test_events_off_by_1_5_s_do_not_match():
    hyp = [_e("interruption", 11.5, "B", "A"), _e("interruption", 30.0, "A", "B")]
    s = ev.event_f1(REF_EVENTS, hyp, "interruption", None)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 1, 1)
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5


def test_events_wrong_direction_do_not_match():
    hyp = [_e("interruption", 10.0, "A", "B")]  # reference says B interrupted A at 10 s
    s = ev.event_f1(REF_EVENTS, hyp, "interruption", None)
    assert (s["tp"], s["fp"], s["fn"]) == (0, 1, 2)
    assert s["f1"] == 0.0


def test_events_of_another_kind_do_not_match():
    hyp = [_e("backchannel", 10.0, "B", "A")]
    s = ev.event_f1(REF_EVENTS, hyp, "backchannel", None)
    assert (s["tp"], s["fp"], s["fn"]) == (0, 1, 1)


def test_events_assignment_maximises_matches():
    # Nearest-first greedy would pair 0.6 with 1.0 (Δ 0.4) and leave 1.9 and 0.0 unmatched.
    ref = [_e("interruption", 0.0, "B", "A"), _e("interruption", 1.0, "B", "A")]
    hyp = [_e("interruption", 0.6, "B", "A"), _e("interruption", 1.9, "B", "A")]
    assert ev.event_f1(ref, hyp, "interruption", None)["tp"] == 2


def test_events_none_expected_none_found_is_perfect():
    s = ev.event_f1([], [], "backchannel", None)
    assert (s["precision"], s["recall"], s["f1"]) == (1.0, 1.0, 1.0)
    s = ev.event_f1([], [_e("backchannel", 1.0, "A", "B")], "backchannel", None)
    assert s["f1"] == 0.0 and s["precision"] == 0.0


# --- files and the CLI ------------------------------------------------------------------------

def _write_session(d: Path, uri: str, segments, interruptions=(), backchannels=()):
    d.mkdir(parents=True, exist_ok=True)
    (d / "segments.rttm").write_text("".join(
        f"SPEAKER {uri} 1 {s:.3f} {e - s:.3f} <NA> <NA> {who} <NA> <NA>\n" for s, e, who in segments))
    (d / "session.json").write_text(json.dumps({
        "format": "facilitator.session/1", "source": f"{uri}.flac",
        "interruptions": [{"t_s": t, "who": a, "whom": b, "successful": True} for t, a, b in interruptions],
        "backchannels": [{"t_s": t, "who": a, "whom": b} for t, a, b in backchannels],
    }))
    return d


@pytest.fixture
def files(tmp_path):
    ref = tmp_path / "ref.rttm"
    ref.write_text(
        "SPEAKER conv 1 0.000 10.000 <NA> <NA> A <NA> <NA>\n"
        "SPEAKER conv 1 12.000 1.000 <NA> <NA> B <NA> <NA>\n"
        "SPEAKER other 1 0.000 5.000 <NA> <NA> C <NA> <NA>\n")
    events = tmp_path / "events.tsv"
    events.write_text("conversation\tkind\ttime_s\twho\twhom\n"
                      "conv\tinterruption\t12.000\tB\tA\n"
                      "conv\tbackchannel\t5.000\tB\tA\n"
                      "conv\tturn_end\t13.000\tA\t\n")
    sess = _write_session(tmp_path / "s1", "conv", [(0.0, 10.0, "Alex"), (12.0, 13.0, "Sam")],
                          interruptions=[(12.3, "Sam", "Alex")])
    return ref, events, sess


@pytest.fixture
def run_cli(monkeypatch, capsys):
    # only this command: the test must not depend on the other commands' modules
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["evaluate"])

    def run(*argv):
        rc = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err

    return run


def test_read_events_tsv(files):
    _, events, _ = files
    got = ev.read_events_tsv(events)
    assert got["conv"][2] == {"kind": "turn_end", "t_s": 13.0, "who": "A", "whom": ""}


def test_load_session(files):
    _, _, sess = files
    s = ev.load_session(sess)
    assert s.uri == "conv" and len(s.segments) == 2
    assert s.interruptions[0]["who"] == "Sam" and s.interruptions[0]["successful"] is True
    assert s.backchannels == []


def test_evaluate_report(files):
    ref, events, sess = files
    report = ev.evaluate(ref, [sess], events_tsv=events)
    (row,) = report.files
    assert row.uri == "conv" and row.der == approx(0.0) and row.mapping == {"Alex": "A", "Sam": "B"}
    assert row.interruption["f1"] == 1.0
    assert row.backchannel["fn"] == 1 and row.backchannel["f1"] == 0.0
    assert report.totals["der"] == approx(0.0)
    assert report.totals["backchannel"]["recall"] == 0.0


def test_evaluate_pools_der_over_files(tmp_path, files):
    ref, _, sess = files
    other = _write_session(tmp_path / "s2", "other", [])  # missed all 5 s of "other"
    report = ev.evaluate(ref, [sess, other], collar_s=0.0)
    assert report.totals["der"] == approx(5 / 16)  # pooled, not the mean of 0 and 1
    assert report.files[1].der == approx(1.0)
    assert report.totals["share_error_pts"] == approx(50.0)  # mean of 0 and 100


def test_cli_table(files, run_cli):
    ref, events, sess = files
    rc, out, err = run_cli("evaluate", "--ref", ref, "--events", events, sess)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["file", "DER%", "miss%"]
    assert any(line.startswith("conv ") for line in lines)
    assert any(line.startswith("total (1)") for line in lines)


def test_cli_json(files, run_cli):
    ref, events, sess = files
    rc, out, _ = run_cli("evaluate", "--ref", ref, "--events", events, "--json", "--collar", "0", sess)
    assert rc == 0
    data = json.loads(out)
    assert data["collar_s"] == 0.0
    assert data["files"][0]["uri"] == "conv"
    assert data["totals"]["interruption"]["f1"] == 1.0


def test_cli_help_explains_options(run_cli, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["evaluate", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for opt in ("--ref", "--events", "--collar", "--json", "SESSION_DIR"):
        assert opt in out


def _bad_inputs(tmp_path, ref, events, sess):
    empty = tmp_path / "not-a-session"
    empty.mkdir()
    bad_rttm = tmp_path / "bad.rttm"
    bad_rttm.write_text("SPEAKER conv 1 zero 1.0 <NA> <NA> A <NA> <NA>\n")
    unknown = _write_session(tmp_path / "s9", "nowhere", [(0.0, 1.0, "X")])
    return {
        "missing ref": ["--ref", tmp_path / "missing.rttm", sess],
        "missing events": ["--ref", ref, "--events", tmp_path / "missing.tsv", sess],
        "missing session": ["--ref", ref, tmp_path / "missing-dir"],
        "no segments.rttm": ["--ref", ref, empty],
        "bad rttm line": ["--ref", bad_rttm, sess],
        "uri not in reference": ["--ref", ref, unknown],
    }


@pytest.mark.parametrize("case", ["missing ref", "missing events", "missing session",
                                  "no segments.rttm", "bad rttm line", "uri not in reference"])
def test_cli_bad_input_is_one_line_exit_2(case, tmp_path, files, run_cli):
    argv = _bad_inputs(tmp_path, *files)[case]
    rc, out, err = run_cli("evaluate", *argv)
    assert rc == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("facilitator: error: ") and "Traceback" not in err


def test_missing_pyannote_is_a_user_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyannote.metrics", None)
    with pytest.raises(UserError, match=r"pip install 'facilitator\[eval\]'"):
        ev.diarization_error(REF, REF)


def test_importing_does_not_import_pyannote():
    code = ("import sys, facilitator.evaluate, facilitator.commands.evaluate; "
            "assert not any(m.startswith('pyannote') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True,
                   cwd=Path(__file__).resolve().parents[1])


# --- the shared corpus ------------------------------------------------------------------------

@pytest.mark.corpus
def test_corpus_reference_against_itself(tmp_path):
    conv = CORPUS / "conversations"
    if not (conv / "conversations.rttm").is_file():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    ref = ev.read_rttm(conv / "conversations.rttm")
    events = ev.read_events_tsv(conv / "events.tsv")
    dirs = []
    for uri, segs in ref.items():
        evs = events.get(uri, [])
        dirs.append(_write_session(
            tmp_path / uri, uri, segs,
            interruptions=[(e["t_s"], e["who"], e["whom"]) for e in evs if e["kind"] == "interruption"],
            backchannels=[(e["t_s"], e["who"], e["whom"]) for e in evs if e["kind"] == "backchannel"]))
    report = ev.evaluate(conv / "conversations.rttm", dirs, events_tsv=conv / "events.tsv")
    assert len(report.files) == 6
    assert report.totals["der"] == pytest.approx(0.0, abs=1e-6)
    assert report.totals["share_error_pts"] == pytest.approx(0.0, abs=1e-3)
    assert report.totals["interruption"]["f1"] == 1.0
    assert report.totals["backchannel"]["f1"] == 1.0
    for row in report.files:
        assert all(v == pytest.approx(1.0, abs=1e-6) for v in row.speaker_recall.values())
