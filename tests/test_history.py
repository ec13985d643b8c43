"""The session history: storing, matching names, trends, comparison, damage, crashes, concurrency."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from facilitator import cli
from facilitator.errors import UserError
from facilitator.history import compare, query, record_session
from facilitator.history import db as dbm
from facilitator.history.render import bar, sparkline
from facilitator.report.synthetic import weekly_series, write_synthetic_session

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FACILITATOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def series(home) -> list[Path]:
    """Eight weekly check-ins of Alex and Sam, stored in the history."""
    from facilitator.paths import sessions_dir

    dirs = weekly_series(sessions_dir(), 8)
    for d in dirs:
        record_session(d)
    return dirs


def _edit(session_dir: Path, **changes) -> None:
    path = session_dir / "session.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_record_is_idempotent_and_updates(home, tmp_path):
    d = write_synthetic_session(tmp_path / "s", ("Alex", "Sam"))
    record_session(d)
    record_session(d)
    assert len(query()) == 1
    _edit(d, balance_index=0.5)
    record_session(d)
    (only,) = query()
    assert only.balance_index == 0.5


def test_database_and_its_wal_are_private(home, tmp_path):
    from facilitator.paths import database_path

    record_session(write_synthetic_session(tmp_path / "s", ("Alex", "Sam")))
    assert stat.S_IMODE(database_path().stat().st_mode) == 0o600
    conn = dbm.connect()
    conn.execute("SELECT COUNT(*) FROM sessions").fetchone()
    wal = Path(str(database_path()) + "-wal")
    assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == dbm.SCHEMA_VERSION
    conn.close()


def test_names_match_across_sessions_regardless_of_case_and_spaces(home, tmp_path):
    t0 = datetime(2026, 1, 5, 19, tzinfo=timezone.utc)
    for i, (a, b) in enumerate([("Alex", "Sam"), ("alex", " SAM "), ("Alex  ", "sam")]):
        record_session(write_synthetic_session(tmp_path / f"s{i}", (a, b), session_id=f"s{i}", seed=i,
                                               started_at=t0 + timedelta(days=7 * i)))
    sessions = query(person="ALEX")
    assert len(sessions) == 3
    assert all(set(s.people) == {"Alex", "sam"} for s in sessions)  # the latest spelling, whitespace tidied
    conn = dbm.connect()
    assert conn.execute("SELECT COUNT(*) FROM people").fetchone()[0] == 2
    conn.close()


def test_query_by_person_and_date(series):
    assert len(query()) == 8
    assert len(query(person="sam")) == 8
    assert query(person="nobody") == []
    since = query(since="2026-07-01")
    assert [s.date for s in since] == sorted(s.date for s in since)
    assert all(s.date >= "2026-07-01" for s in since) and 0 < len(since) < 8
    assert len(query(since="3650d")) == 8
    with pytest.raises(UserError, match="--since"):
        query(since="last tuesday")


def test_compare_says_what_changed(home, tmp_path):
    t0 = datetime(2026, 1, 5, 19, tzinfo=timezone.utc)
    for i in range(6):
        lead = 2.6 if i < 3 else 1.0  # Alex talked far more in the first three weeks
        record_session(write_synthetic_session(
            tmp_path / f"w{i}", ("Alex", "Sam"), session_id=f"w{i}", seed=i, weights={"Alex": lead},
            started_at=t0 + timedelta(days=7 * i), interrupter="Alex" if i < 3 else None))
    text = compare(query(), 3)
    assert text.startswith("The last 3 sessions (2026-01-26…2026-02-09) against the 3 before")
    alex = next(l for l in text.splitlines() if l.startswith("- Alex's share"))
    assert "fell from" in alex
    assert "The balance index rose from" in text
    assert text.splitlines()[-1] == "Overall: the floor is shared more evenly than before."
    assert compare(query()[:1], 3).startswith("Only 1 session stored")


def test_compare_reports_people_who_joined(home, tmp_path):
    t0 = datetime(2026, 1, 5, 19, tzinfo=timezone.utc)
    people = [("Alex", "Sam"), ("Alex", "Sam"), ("Alex", "Sam", "Jo"), ("Alex", "Sam", "Jo")]
    for i, names in enumerate(people):
        record_session(write_synthetic_session(tmp_path / f"w{i}", names, session_id=f"w{i}", seed=i,
                                               started_at=t0 + timedelta(days=7 * i)))
    text = compare(query(), 2)
    assert "- Jo joined recently" in text


def test_history_command_lists_and_charts(series, capsys, tmp_path):
    assert cli.main(["history"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("History: 8 sessions, 2026-06-01 to 2026-07-20")
    for d in series:
        assert d.name in out
    assert any(ch in out for ch in "▁▂▃▄▅▆▇█")
    assert cli.main(["history", "--person", "alex", "--since", "2026-06-20"]) == 0
    out = capsys.readouterr().out
    assert "with Alex since 2026-06-20" in out and "Sam " not in out
    assert cli.main(["history", "--compare", "3"]) == 0
    assert "The last 3 sessions" in capsys.readouterr().out
    page = tmp_path / "history.html"
    assert cli.main(["history", "--compare", "4", "--html", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert html.count("<svg") == 1 and "What changed" in html
    assert "http://" not in html and "https://" not in html
    assert html.count("<tr data-session=") == 8


def test_history_unknown_person_suggests_known_names(series, capsys):
    assert cli.main(["history", "--person", "Alx"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Known people: Alex, Sam." in err


def test_history_without_a_database_says_so(home, capsys):
    assert cli.main(["history"]) == 0
    assert capsys.readouterr().out == "No stored sessions.\n"
    from facilitator.paths import database_path

    assert not database_path().exists()  # reading never creates the file


def test_damaged_database_is_one_line_and_left_alone(home, tmp_path, capsys):
    from facilitator.paths import database_path

    junk = b"these are not the bytes of a database " * 200
    database_path().write_bytes(junk)
    for argv in (["history"], ["history", "--person", "Alex"], ["forget", "--person", "Alex", "--yes"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is damaged" in err and "Traceback" not in err
    with pytest.raises(UserError, match="damaged"):
        record_session(write_synthetic_session(tmp_path / "s", ("Alex", "Sam")))
    assert database_path().read_bytes() == junk


def test_corrupted_pages_are_reported_not_raised(home, series, capsys):
    from facilitator.paths import database_path

    path = database_path()
    data = bytearray(path.read_bytes())
    page = 4096
    for p in range(1, len(data) // page):  # smash every page after the header page
        data[p * page + 8:p * page + 400] = os.urandom(392)
    path.write_bytes(bytes(data))
    assert cli.main(["history"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("damaged" in err or "cannot be used" in err)


def test_newer_schema_is_refused(home, tmp_path):
    from facilitator.paths import database_path

    record_session(write_synthetic_session(tmp_path / "s", ("Alex", "Sam")))
    conn = sqlite3.connect(database_path())
    conn.execute(f"PRAGMA user_version={dbm.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(UserError, match="newer facilitator"):
        query()


def test_twenty_sessions_answer_within_200_ms(home, capsys):
    from facilitator.paths import sessions_dir

    for d in weekly_series(sessions_dir(), 20, speakers=("Alex", "Sam", "Jo")):
        record_session(d)
    for argv in (["history"], ["history", "--person", "sam"], ["history", "--compare", "5"]):
        t0 = time.perf_counter()
        assert cli.main(argv) == 0
        assert time.perf_counter() - t0 < 0.2, argv
    assert "20 sessions" in capsys.readouterr().out


def test_sparkline_and_bar():
    assert sparkline([0.0, 0.5, 1.0, None]) == "▁▅█ "
    assert bar(0.5, 10) == "█████·····"
    assert bar(1.0, 4) == "████"


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from datetime import datetime, timedelta, timezone
    from facilitator.history import record_session
    from facilitator.report.synthetic import write_synthetic_session
    base, db = Path(sys.argv[1]), Path(sys.argv[2])
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    dirs = [write_synthetic_session(base / f"w{i}", ("Alex", "Sam", "Jo"), session_id=f"w{i}", seed=i,
                                    started_at=t0 + timedelta(days=i), duration_s=120.0) for i in range(6)]
    print("ready", flush=True)
    i = 0
    while True:
        record_session(dirs[i % len(dirs)], db)
        i += 1
""")

READER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from facilitator.history import query
    db = Path(sys.argv[1])
    n = 0
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        for s in query(db):
            assert len(s.people) == 3, (s.id, s.people)
        n += 1
    print(n)
""")


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_killed_writer_leaves_whole_sessions_and_readers_keep_reading(tmp_path):
    """A process killed (SIGKILL) mid-write loses at most the session it was writing; a second
    process reads the whole time without errors or half-written sessions."""
    db = tmp_path / "history.sqlite3"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "sessions"), str(db)],
                              stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert writer.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 10
        while not db.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        reader = subprocess.run([sys.executable, "-c", READER, str(db), "1.5"], capture_output=True, text=True,
                                env=_env(), timeout=60)
        assert reader.returncode == 0, reader.stderr
        assert int(reader.stdout) > 5
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    sessions = query(db)
    assert 1 <= len(sessions) <= 6
    for s in sessions:
        assert len(s.people) == 3
