"""Privacy: private permissions, forget leaves no trace, and nothing opens a network connection."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from facilitator import cli
from facilitator.history import query, record_session
from facilitator.report import write_reports
from facilitator.report.synthetic import write_synthetic_session


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FACILITATOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _store(name_sets: list[tuple[str, ...]]) -> list[Path]:
    """Sessions in the data dir, reported and recorded, as a real run leaves them."""
    from facilitator.paths import sessions_dir

    dirs = []
    for i, names in enumerate(name_sets):
        sid = f"2026010{i + 1}-190000-open-{len(names)}"
        d = write_synthetic_session(sessions_dir() / sid, names, session_id=sid, seed=i)
        write_reports(d)
        record_session(d)
        dirs.append(d)
    return dirs


def _voices(*file_names: str) -> list[Path]:
    from facilitator.paths import open_private, voices_dir

    out = []
    for name in file_names:
        path = voices_dir() / name
        with open_private(path, "wb") as fh:  # as the voice store writes them
            fh.write(b"\x93NUMPY voice model for " + name.encode())
        out.append(path)
    return out


def _traces(root: Path, needle: str) -> list[str]:
    """Every file under ``root`` whose bytes (or name) contain ``needle`` in any case, in UTF-8 or UTF-16."""
    hits = []
    forms = {needle.lower().encode(), needle.upper().encode(), needle.capitalize().encode()}
    forms |= {f.decode().encode("utf-16-le") for f in list(forms)}
    for path in root.rglob("*"):
        if needle.lower() in path.name.lower():
            hits.append(f"name: {path}")
        if path.is_file():
            data = path.read_bytes()
            if needle.lower().encode() in data.lower() or any(f in data for f in forms):
                hits.append(f"bytes: {path}")
    return hits


def test_everything_written_is_private(home):
    _store([("Alex", "Sam")])
    _voices("alex.npz")
    for path in home.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_forget_person_leaves_no_trace(home, capsys):
    from facilitator.paths import database_path

    dirs = _store([("Alex", "Sam"), ("Sam", "Jo"), ("Jo", "ALEX"), ("Sam", "Jo")])
    _voices("Alex.npz", "Alex.tmp", "Sam.npz", "jo.npz", "background.npz")
    assert _traces(home, "alex")  # the test can see the name before

    assert cli.main(["forget", "--person", "  alex ", "--yes"]) == 0
    assert "Removed 2 sessions" in capsys.readouterr().out
    assert _traces(home, "alex") == []
    # database file, WAL and shared memory all checked by _traces; the file is still a working history
    assert [s.id for s in query()] == [dirs[1].name, dirs[3].name]
    assert dirs[1].exists() and dirs[3].exists() and not dirs[0].exists() and not dirs[2].exists()
    assert sorted(p.name for p in (home / "voices").iterdir()) == ["Sam.npz", "background.npz", "jo.npz"]
    assert database_path().exists()


def test_forget_matches_voice_files_by_name(home):
    from facilitator.history.forget import voice_files

    _voices("Mary Ann.npz", "mary-ann.tmp", "J. Doe.npz", "Maryanne.npz")
    assert [p.name for p in voice_files("mary  ANN")] == ["Mary Ann.npz", "mary-ann.tmp"]
    assert [p.name for p in voice_files("j. doe")] == ["J. Doe.npz"]


def test_forget_person_without_voice_or_database(home, capsys):
    from facilitator.paths import sessions_dir

    d = write_synthetic_session(sessions_dir() / "crashed", ("Kim", "Lee"), session_id="crashed")
    (d / "session.json").unlink()  # a crashed session: only the journal names the people
    assert cli.main(["forget", "--person", "kim", "--yes"]) == 0
    assert not d.exists()
    assert _traces(home, "kim") == []
    assert cli.main(["forget", "--person", "nobody", "--yes"]) == 0
    assert "Nothing stored about nobody" in capsys.readouterr().out


def test_forget_session_by_id_removes_files_and_rows(home, capsys):
    dirs = _store([("Alex", "Sam"), ("Alex", "Sam")])
    gone = dirs[0].name
    assert cli.main(["forget", gone, "--dry-run"]) == 0
    assert dirs[0].exists()
    assert cli.main(["forget", gone, "--yes"]) == 0
    assert not dirs[0].exists()
    assert [s.id for s in query()] == [dirs[1].name]
    assert _traces(home, gone) == []
    assert cli.main(["forget", "no-such-session", "--yes"]) == 2


def test_forget_session_outside_the_data_dir_keeps_foreign_files(home, tmp_path, capsys):
    d = write_synthetic_session(tmp_path / "out", ("Alex", "Sam"), session_id="outside")
    write_reports(d)
    record_session(d)
    (d / "notes.txt").write_text("mine")
    assert cli.main(["forget", str(d), "--yes"]) == 0
    assert [p.name for p in d.iterdir()] == ["notes.txt"]
    assert "left" in capsys.readouterr().out
    assert query() == []


def test_forget_leaves_a_running_session_alone(home, capsys):
    fcntl = pytest.importorskip("fcntl")
    dirs = _store([("Alex", "Sam")])
    with open(dirs[0] / "events.jsonl", "ab") as journal:  # as a live session holds it
        fcntl.flock(journal.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert cli.main(["forget", "--person", "Alex", "--yes"]) == 2
        assert "still running" in capsys.readouterr().err
    assert dirs[0].exists() and len(query()) == 1


def test_forget_needs_confirmation_when_not_interactive(home, monkeypatch, capsys):
    dirs = _store([("Alex", "Sam")])
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli.main(["forget", "--person", "Alex"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert dirs[0].exists()


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network connection attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_report_history_and_forget_open_no_connection(home, tmp_path, no_network, capsys):
    from facilitator.paths import sessions_dir

    for i, proto in enumerate(("open", "round-robin")):
        d = write_synthetic_session(sessions_dir() / f"s{i}", ("Alex", "Sam", "Jo"), protocol=proto,
                                    session_id=f"s{i}", seed=i)
        assert cli.main(["report", str(d)]) == 0
        record_session(d)
    assert cli.main(["history", "--html", str(tmp_path / "h.html")]) == 0
    assert cli.main(["history", "--compare", "1", "--person", "jo"]) == 0
    assert cli.main(["forget", "--person", "Jo", "--yes"]) == 0
    assert no_network == []
