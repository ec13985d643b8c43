"""The session history: one SQLite file in the user data dir (0600, WAL, versioned schema).

Writes happen in one ``BEGIN IMMEDIATE`` transaction each, so a process killed mid-write leaves
either the old or the new session, never half of one; WAL lets another process read meanwhile.
A file that is not a database or is damaged raises one :class:`UserError` and is left untouched.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from facilitator.errors import UserError
from facilitator.report.figures import name_key

# Schema migrations: MIGRATIONS[i] takes a database from user_version i to i + 1.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,          -- name folded for matching (case, whitespace)
        name TEXT NOT NULL                 -- the spelling seen most recently
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,          -- as in session.json (ISO 8601 with offset)
        started_utc TEXT NOT NULL,         -- the same instant in UTC, for ordering and --since
        source TEXT, mode TEXT, protocol TEXT,
        turn_s REAL, duration_s REAL, speech_s REAL, overlap_s REAL, silence_s REAL,
        balance_index REAL, balance_verdict TEXT,
        session_dir TEXT,                  -- where the files are (forget removes them)
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX sessions_by_time ON sessions(started_utc);
    CREATE TABLE participation (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES people(id),
        position INTEGER NOT NULL,         -- order in session.json
        name TEXT NOT NULL,                -- spelling in this session
        floor_s REAL, share REAL, utterances INTEGER, turns INTEGER, longest_turn_s REAL,
        interruptions_made INTEGER, interruptions_received INTEGER,
        backchannels INTEGER, backchannels_received INTEGER,
        PRIMARY KEY (session_id, person_id)
    );
    CREATE INDEX participation_by_person ON participation(person_id);
    CREATE TABLE interruptions (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t_s REAL NOT NULL,
        who_id INTEGER NOT NULL REFERENCES people(id),
        whom_id INTEGER NOT NULL REFERENCES people(id),
        successful INTEGER NOT NULL
    );
    CREATE INDEX interruptions_by_session ON interruptions(session_id);
    CREATE TABLE turns (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        holder_id INTEGER NOT NULL REFERENCES people(id),
        start_s REAL, end_s REAL, floor_s REAL, allowance_s REAL, given_back_s REAL,
        interruptions INTEGER,
        PRIMARY KEY (session_id, idx)
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

PERSON_FIELDS = ["floor_s", "share", "utterances", "turns", "longest_turn_s", "interruptions_made",
                 "interruptions_received", "backchannels", "backchannels_received"]
SESSION_FIELDS = ["source", "mode", "protocol", "turn_s", "duration_s", "speech_s", "overlap_s", "silence_s",
                  "balance_index", "balance_verdict"]

# SQLite primary result codes that mean "this file is damaged or not a database".
_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


class HistoryConnection(sqlite3.Connection):
    """A connection that remembers its file, for error messages."""

    db_path: Path


def default_path() -> Path:
    from facilitator.paths import database_path

    return database_path()


def _explain(exc: sqlite3.Error, path: Path) -> UserError:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in _DAMAGED or "not a database" in str(exc) or "malformed" in str(exc):
        return UserError(f"the history database {path} is damaged ({exc}); it was left as it is — "
                         "move it aside and facilitator will start a new one")
    if "locked" in str(exc) or "busy" in str(exc):
        return UserError(f"the history database {path} is busy (another facilitator is writing); try again")
    return UserError(f"the history database {path} cannot be used: {exc}")


@contextmanager
def guard(path: Path) -> Iterator[None]:
    """Turn SQLite failures into one clear line for the user."""
    try:
        yield
    except sqlite3.Error as exc:
        raise _explain(exc, path) from None


def _create_private(path: Path) -> None:
    """Create an empty database file readable by the user only (SQLite gives its WAL the same mode)."""
    from facilitator.paths import private_dir

    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def connect(db_path: Path | None = None, *, create: bool = True) -> HistoryConnection | None:
    """An open, migrated connection (autocommit mode: callers open their own transactions).

    With ``create=False`` a missing database gives ``None`` instead of a new file.
    """
    path = Path(db_path) if db_path is not None else default_path()
    if not path.exists():
        if not create:
            return None
        _create_private(path)
    with guard(path):
        conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, factory=HistoryConnection)
        conn.db_path = path
        try:
            conn.row_factory = sqlite3.Row
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UserError(f"the history database {path} was written by a newer facilitator "
                                f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade facilitator")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA secure_delete=ON")
            if version < SCHEMA_VERSION:
                migrate(conn, version)
        except BaseException:
            conn.close()
            raise
    return conn


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Apply the migrations after ``version``, each in its own transaction with its version bump."""
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current >= target:  # another process migrated meanwhile
                conn.execute("COMMIT")
                continue
            for statement in _statements(MIGRATIONS[target - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip() and not s.strip().startswith("--")]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def utc_iso(started_at: str) -> str:
    """``started_at`` as a sortable UTC string (naive times are taken as local time)."""
    try:
        when = datetime.fromisoformat(str(started_at).replace("Z", "+00:00"))
    except ValueError:
        return str(started_at)
    if when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def person_id(conn: sqlite3.Connection, name: str) -> int:
    key = name_key(name)
    display = " ".join(str(name).split())
    conn.execute("INSERT INTO people(key, name) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET name=excluded.name",
                 (key, display))
    return conn.execute("SELECT id FROM people WHERE key=?", (key,)).fetchone()[0]


def store_session(conn: sqlite3.Connection, session: dict, session_dir: Path | None) -> None:
    """Insert or replace one session (idempotent by session id) in a single transaction."""
    with transaction(conn):
        sid = str(session["id"])
        conn.execute("DELETE FROM sessions WHERE id=?", (sid,))
        conn.execute(
            f"INSERT INTO sessions(id, started_at, started_utc, {', '.join(SESSION_FIELDS)}, session_dir, recorded_at)"
            f" VALUES (?, ?, ?, {', '.join('?' * len(SESSION_FIELDS))}, ?, ?)",
            [sid, str(session.get("started_at", "")), utc_iso(session.get("started_at", ""))]
            + [session.get(f) for f in SESSION_FIELDS]
            + [str(Path(session_dir).resolve()) if session_dir else None,
               datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")],
        )
        ids: dict[str, int] = {}

        def pid(name) -> int:
            name = str(name)
            if name not in ids:
                ids[name] = person_id(conn, name)
            return ids[name]

        seen: set[int] = set()
        for position, sp in enumerate(session.get("speakers", [])):
            p = pid(sp["name"])
            if p in seen:  # the same person spelled twice: keep the first row
                continue
            seen.add(p)
            conn.execute(
                f"INSERT INTO participation(session_id, person_id, position, name, {', '.join(PERSON_FIELDS)})"
                f" VALUES (?, ?, ?, ?, {', '.join('?' * len(PERSON_FIELDS))})",
                [sid, p, position, str(sp["name"])] + [sp.get(f) for f in PERSON_FIELDS],
            )
        conn.executemany(
            "INSERT INTO interruptions(session_id, t_s, who_id, whom_id, successful) VALUES (?, ?, ?, ?, ?)",
            [(sid, ev["t_s"], pid(ev["who"]), pid(ev["whom"]), int(bool(ev.get("successful"))))
             for ev in session.get("interruptions", []) or []],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO turns(session_id, idx, holder_id, start_s, end_s, floor_s, allowance_s,"
            " given_back_s, interruptions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(sid, t.get("index", i), pid(t["holder"]), t.get("start_s"), t.get("end_s"), t.get("floor_s"),
              t.get("allowance_s"), t.get("given_back_s", 0.0), t.get("interruptions", 0))
             for i, t in enumerate(session.get("turns", []) or [])],
        )
        conn.execute("DELETE FROM people WHERE id NOT IN (SELECT person_id FROM participation)"
                     " AND id NOT IN (SELECT who_id FROM interruptions) AND id NOT IN (SELECT whom_id FROM interruptions)"
                     " AND id NOT IN (SELECT holder_id FROM turns)")


def delete_sessions(conn: sqlite3.Connection, session_ids: list[str]) -> int:
    """Remove sessions (and, by cascade, their rows) and people left without a session."""
    with transaction(conn):
        n = 0
        for sid in session_ids:
            n += conn.execute("DELETE FROM sessions WHERE id=?", (sid,)).rowcount
        conn.execute("DELETE FROM people WHERE id NOT IN (SELECT person_id FROM participation)"
                     " AND id NOT IN (SELECT who_id FROM interruptions) AND id NOT IN (SELECT whom_id FROM interruptions)"
                     " AND id NOT IN (SELECT holder_id FROM turns)")
    return n


def compact(conn: sqlite3.Connection) -> None:
    """Rewrite the file without free pages and empty the WAL, so deleted text is gone from disk."""
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
