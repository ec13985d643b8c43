"""The post-session report: files, permissions, words, determinism, self-containment, the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from facilitator import cli
from facilitator.errors import UserError
from facilitator.report import (
    load_segments,
    load_session,
    plain_words_reading,
    summary_table,
    write_reports,
)
from facilitator.report.figures import fmt_duration, fmt_percent, interruption_matrix
from facilitator.report.synthetic import write_synthetic_session


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FACILITATOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def open_session(tmp_path) -> Path:
    """Three people, open conversation; Alex talks most and interrupts most."""
    return write_synthetic_session(tmp_path / "open-3", ("Alex", "Sam", "Jo"), protocol="open", seed=3,
                                   weights={"Alex": 1.8}, interrupter="Alex")


@pytest.fixture
def rr_session(tmp_path) -> Path:
    """Two people, round-robin protected turns of 60 s."""
    return write_synthetic_session(tmp_path / "rr-2", ("Alex", "Sam"), protocol="round-robin", seed=5,
                                   turn_s=60.0, interrupter="Sam")


def handmade(**overrides) -> dict:
    session = {
        "format": "facilitator.session/1", "id": "x", "protocol": "open", "duration_s": 600.0,
        "speakers": [
            {"name": "Alex", "floor_s": 340.0, "share": 0.68, "turns": 9, "longest_turn_s": 95.0,
             "interruptions_made": 7, "interruptions_received": 2, "backchannels": 1},
            {"name": "Sam", "floor_s": 160.0, "share": 0.32, "turns": 8, "longest_turn_s": 41.0,
             "interruptions_made": 2, "interruptions_received": 7, "backchannels": 12},
        ],
    }
    session.update(overrides)
    return session


def test_plain_words_reading_names_the_floor_and_the_interrupted():
    assert plain_words_reading(handmade()) == (
        "Alex held 68 % of the floor, Sam 32 % (an equal share is 50 %); Sam was interrupted 7 times, Alex twice."
    )


def test_plain_words_reading_without_interruptions_or_speech():
    quiet = handmade()
    for sp in quiet["speakers"]:
        sp["interruptions_received"] = 0
    assert plain_words_reading(quiet).endswith("; nobody was interrupted.")
    silent = handmade(speakers=[{"name": "Alex", "floor_s": 0.0, "share": 0.0}])
    assert plain_words_reading(silent) == "Nobody spoke long enough to measure."


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (59.4, "0:59"), (59.6, "1:00"), (120.3, "2:00"),
                                           (3725, "1:02:05"), (None, "–")])
def test_durations_read_as_minutes_and_seconds(seconds, text):
    assert fmt_duration(seconds) == text


def test_write_reports_writes_private_files_and_returns_their_paths(open_session):
    paths = write_reports(open_session)
    assert set(paths) == {"html", "md", "csv"}
    assert {p.name for p in paths.values()} == {"report.html", "report.md", "segments.csv"}
    for path in paths.values():
        assert path.parent == open_session
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in open_session.iterdir() if p.name.endswith(".tmp")]
    # no audio unless recording was asked for
    assert not [p for p in open_session.iterdir() if p.suffix in (".wav", ".flac", ".ogg", ".mp3")]


def test_reports_are_deterministic(open_session, tmp_path):
    first = {k: p.read_bytes() for k, p in write_reports(open_session).items()}
    second = {k: p.read_bytes() for k, p in write_reports(open_session).items()}
    assert first == second


def test_html_is_self_contained(open_session, rr_session):
    for d in (open_session, rr_session):
        html = write_reports(d)["html"].read_text(encoding="utf-8")
        assert html.count("<svg") == 2  # share chart + timeline
        lowered = html.lower()
        for needle in ("http://", "https://", "src=", "<script", "<link", "@import"):
            assert needle not in lowered, needle
        assert re.findall(r"url\(\s*['\"]?([^#'\")\s][^)]*)\)", lowered) == []  # only url(#local-id)
        assert "<!doctype" not in lowered.split("<!doctype html>", 1)[1]  # no SVG DOCTYPE inside


def test_round_robin_report_has_the_turn_table(rr_session):
    session = load_session(rr_session)
    assert session["turns"], "fixture should have protected turns"
    text = summary_table(session)
    assert "Round-robin turns" in text
    md = write_reports(rr_session)["md"].read_text(encoding="utf-8")
    assert "## Round-robin turns" in md
    for turn in session["turns"]:
        assert f"| {turn['index'] + 1} | {turn['holder']} | {fmt_duration(turn['floor_s'])} |" in md


def test_summary_table_shows_every_speaker_and_the_verdict(open_session):
    session = load_session(open_session)
    text = summary_table(session)
    for sp in session["speakers"]:
        line = next(l for l in text.splitlines() if l.startswith(sp["name"] + " "))
        assert fmt_duration(sp["floor_s"]) in line and fmt_percent(sp["share"]) in line
    assert session["balance_verdict"] in text
    assert plain_words_reading(session) in text
    assert "overlap " + fmt_duration(session["overlap_s"]) in text
    assert "silence " + fmt_duration(session["silence_s"]) in text
    assert "Round-robin" not in text


def test_interruption_matrix_counts_who_interrupted_whom(open_session):
    session = load_session(open_session)
    names, counts = interruption_matrix(session)
    for i, name in enumerate(names):
        sp = next(s for s in session["speakers"] if s["name"] == name)
        assert sum(counts[i]) == sp["interruptions_made"]
        assert sum(row[i] for row in counts) == sp["interruptions_received"]


def test_segments_csv_matches_the_rttm(open_session):
    write_reports(open_session)
    rows = (open_session / "segments.csv").read_text().splitlines()
    assert rows[0] == "speaker,start_s,end_s,duration_s"
    rttm = (open_session / "segments.rttm").read_text().splitlines()
    assert len(rows) - 1 == len(rttm)


def test_segments_come_from_the_journal_without_an_rttm(open_session):
    from_rttm = load_segments(open_session)
    (open_session / "segments.rttm").unlink()
    from_journal = load_segments(open_session)
    assert [(s.speaker, round(s.start_s, 2), round(s.end_s, 2)) for s in from_journal] == \
        [(s.speaker, round(s.start_s, 2), round(s.end_s, 2)) for s in from_rttm]
    assert write_reports(open_session)["html"].exists()


def test_damaged_session_json_is_one_clear_error(open_session):
    (open_session / "session.json").write_text("{ not json")
    with pytest.raises(UserError, match="damaged"):
        write_reports(open_session)


def test_missing_session_json_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="no session.json"):
        write_reports(tmp_path)


def test_report_command_formats(home, open_session, capsys):
    assert cli.main(["report", str(open_session)]) == 0
    out = capsys.readouterr().out
    assert "Balance index" in out and "report.html" in out
    assert cli.main(["report", str(open_session), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["speakers"] == load_session(open_session)["speakers"]
    assert data["report"]["reading"] == plain_words_reading(load_session(open_session))
    assert cli.main(["report", str(open_session), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("speaker,start_s,end_s,duration_s")
    assert cli.main(["report", str(open_session), "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith("# Session ")
    out_file = open_session.parent / "copy.html"
    assert cli.main(["report", str(open_session), "--out", str(out_file)]) == 0
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600


def test_report_command_finds_a_session_by_id(home, capsys):
    from facilitator.paths import sessions_dir

    d = write_synthetic_session(sessions_dir() / "20261123-184500-open-2", ("Alex", "Sam"),
                                session_id="20261123-184500-open-2")
    assert cli.main(["report", "20261123-184500-open-2", "--format", "html"]) == 0
    assert capsys.readouterr().out.strip() == str(d / "report.html")
    assert cli.main(["report", "20261123-18", "--format", "html"]) == 0  # a unique prefix is enough


def test_report_command_unknown_session_is_one_line(home, capsys):
    assert cli.main(["report", "no-such-session"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no session 'no-such-session'" in err


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*args: str, timeout: float = 90.0) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             *args], capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.skipif(CHROMIUM is None, reason="headless chromium not installed (Debian package 'chromium')")
def test_report_renders_in_headless_chromium(rr_session, tmp_path):
    """The page loads in a real browser, shows both charts and the tables, and asks for nothing outside."""
    from html.parser import HTMLParser

    html_path = write_reports(rr_session)["html"]
    dom = _chromium("--dump-dom", html_path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]

    class Resources(HTMLParser):
        def __init__(self):
            super().__init__()
            self.svgs, self.tables, self.external = 0, set(), []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            self.svgs += tag == "svg"
            if tag == "table":
                self.tables.add(attrs.get("id"))
            for key in ("src", "href", "xlink:href", "action", "poster", "data"):
                value = (attrs.get(key) or "").strip().lower()
                if value.startswith(("http:", "https:", "//", "ftp:", "ws:", "wss:")):
                    self.external.append((tag, key, value))
            if "url(" in (attrs.get("style") or ""):
                self.external.append((tag, "style", attrs["style"]))

    parser = Resources()
    parser.feed(dom.stdout)
    assert parser.svgs == 2
    assert {"overview", "speakers", "turns", "interruption-matrix"} <= parser.tables
    assert parser.external == []

    png = tmp_path / "report.png"
    shot = _chromium(f"--screenshot={png}", "--window-size=1200,2400", html_path.as_uri())
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    if os.environ.get("FACILITATOR_KEEP_SCREENSHOTS"):
        shutil.copy(png, Path(os.environ["FACILITATOR_KEEP_SCREENSHOTS"]) / "report-rr.png")
