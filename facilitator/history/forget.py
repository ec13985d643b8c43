"""``forget``: remove a session, or everything about a person, from every place facilitator keeps it.

A person is removed by removing every session they took part in (its directory, its database rows)
and their stored voice; the database is then vacuumed and its WAL emptied, so the name is gone from
the bytes on disk too. Sessions are found both through the database and by scanning the sessions
directory, so a session the database never heard of (a crash, a damaged history) is not missed.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from facilitator.errors import UserError
from facilitator.history import db as dbm
from facilitator.report.figures import name_key

SESSION_FILES = ("events.jsonl", "session.json", "segments.rttm", "report.html", "report.md", "segments.csv")


@dataclass
class Plan:
    """What ``forget`` will remove."""

    session_ids: set[str] = field(default_factory=set)
    dirs: set[Path] = field(default_factory=set)
    voices: list[Path] = field(default_factory=list)
    person_key: str | None = None
    in_database: bool = False

    @property
    def empty(self) -> bool:
        return not (self.session_ids or self.dirs or self.voices or self.in_database)

    def describe(self) -> str:
        parts = []
        if self.session_ids:
            parts.append(f"{len(self.session_ids)} session{'s' if len(self.session_ids) != 1 else ''}"
                         f" ({', '.join(sorted(self.session_ids)[:4])}{'…' if len(self.session_ids) > 4 else ''})")
        if self.dirs:
            parts.append(f"{len(self.dirs)} session director{'ies' if len(self.dirs) != 1 else 'y'}")
        if self.voices:
            parts.append(f"{len(self.voices)} stored voice file{'s' if len(self.voices) != 1 else ''}")
        if self.in_database and not self.session_ids:
            parts.append("the person's history entry")
        return ", ".join(parts) if parts else "nothing"


def slug(name: str) -> str:
    """How a name looks in a file name: folded, runs of non-word characters as one dash."""
    return re.sub(r"[\W_]+", "-", name_key(name)).strip("-")


def _session_info(path: Path) -> tuple[str | None, list[str]]:
    """``(id, speaker names)`` of a session directory, from session.json or the journal's first line."""
    try:
        data = json.loads((path / "session.json").read_text(encoding="utf-8"))
        return str(data.get("id")), [str(s.get("name")) for s in data.get("speakers", [])]
    except (OSError, ValueError, AttributeError):
        pass
    try:
        with open(path / "events.jsonl", encoding="utf-8", errors="replace") as fh:
            first = json.loads(fh.readline())
        return str(first.get("id")), [str(n) for n in first.get("speakers", [])]
    except (OSError, ValueError, AttributeError):
        return None, []


def _session_dirs() -> list[Path]:
    from facilitator.paths import sessions_dir

    return [p for p in sorted(sessions_dir().iterdir()) if p.is_dir()]


def voice_files(name: str) -> list[Path]:
    """Stored voice files (``NAME.npz``, and a ``NAME.tmp`` left by a crash) of the person; none is fine."""
    from facilitator.paths import voices_dir

    want = slug(name)
    if not want:
        return []
    return [p for p in sorted(voices_dir().iterdir()) if want in (slug(p.stem), slug(p.name.split(".")[0]))]


def plan_session(arg: str, db_path: Path | None = None) -> Plan:
    plan = Plan()
    path = Path(arg).expanduser()
    if path.is_dir() and ((path / "session.json").exists() or (path / "events.jsonl").exists()):
        plan.dirs.add(path.resolve())
        sid, _ = _session_info(path)
        plan.session_ids.add(sid or path.name)
    else:
        for d in _session_dirs():
            sid, _ = _session_info(d)
            if d.name == arg or sid == arg:
                plan.dirs.add(d.resolve())
                plan.session_ids.add(sid or d.name)
    conn = dbm.connect(db_path, create=False)
    if conn is not None:
        with dbm.guard(conn.db_path):
            ids = set(plan.session_ids) | {arg}
            for sid in ids:
                row = conn.execute("SELECT id, session_dir FROM sessions WHERE id=?", (sid,)).fetchone()
                if row:
                    plan.session_ids.add(row["id"])
                    plan.in_database = True
                    if row["session_dir"] and Path(row["session_dir"]).is_dir():
                        plan.dirs.add(Path(row["session_dir"]))
        conn.close()
    if plan.empty:
        raise UserError(f"no session '{arg}' (neither a session directory, nor an id in the history "
                        "or the sessions directory)")
    return plan


def plan_person(name: str, db_path: Path | None = None) -> Plan:
    key = name_key(name)
    if not key:
        raise UserError("--person needs a name")
    plan = Plan(person_key=key)
    for d in _session_dirs():
        sid, speakers = _session_info(d)
        if any(name_key(s) == key for s in speakers):
            plan.dirs.add(d.resolve())
            plan.session_ids.add(sid or d.name)
    conn = dbm.connect(db_path, create=False)
    if conn is not None:
        with dbm.guard(conn.db_path):
            person = conn.execute("SELECT id FROM people WHERE key=?", (key,)).fetchone()
            if person:
                plan.in_database = True
                rows = conn.execute(
                    "SELECT id, session_dir FROM sessions WHERE id IN ("
                    " SELECT session_id FROM participation WHERE person_id=:p"
                    " UNION SELECT session_id FROM interruptions WHERE who_id=:p OR whom_id=:p"
                    " UNION SELECT session_id FROM turns WHERE holder_id=:p)", {"p": person["id"]})
                for row in rows:
                    plan.session_ids.add(row["id"])
                    if row["session_dir"] and Path(row["session_dir"]).is_dir():
                        plan.dirs.add(Path(row["session_dir"]))
        conn.close()
    plan.voices = voice_files(name)
    return plan


def _remove_dir(path: Path) -> list[Path]:
    """Remove a session directory; returns files left behind (not facilitator's, outside the data dir)."""
    from facilitator.paths import data_dir

    path = Path(path)
    if not path.exists():
        return []
    if path.resolve().is_relative_to(data_dir().resolve()):
        shutil.rmtree(path)
        return []
    for name in SESSION_FILES:
        for candidate in (path / name, path / f".{name}.tmp"):
            candidate.unlink(missing_ok=True)
    left = sorted(path.iterdir())
    if not left:
        path.rmdir()
    return left


def _refuse_running(plan: Plan) -> None:
    """A session still being recorded keeps writing its files: it must end before it is forgotten."""
    from facilitator.journal import journal_in_use

    for d in sorted(plan.dirs):
        if (d / "events.jsonl").exists() and journal_in_use(d / "events.jsonl"):
            raise UserError(f"the session in {d} is still running; end it first, then forget it")


def execute(plan: Plan, db_path: Path | None = None) -> list[Path]:
    """Carry out the plan; returns files that were left because facilitator did not write them."""
    _refuse_running(plan)
    conn = dbm.connect(db_path, create=False)
    if conn is not None:
        try:
            with dbm.guard(conn.db_path):
                dbm.delete_sessions(conn, sorted(plan.session_ids))
                if plan.person_key:
                    with dbm.transaction(conn):
                        conn.execute("DELETE FROM people WHERE key=?", (plan.person_key,))
                dbm.compact(conn)
        finally:
            conn.close()
    left: list[Path] = []
    for d in sorted(plan.dirs):
        left += _remove_dir(d)
    for voice in plan.voices:
        if voice.is_dir():
            shutil.rmtree(voice)
        else:
            voice.unlink(missing_ok=True)
    return left
