"""Session history across weeks and months: SQLite in the user data dir, trends, and forgetting.

``record_session`` is called at the end of every replay or live session; ``facilitator history``
reads the trends back and ``facilitator forget`` removes sessions or people everywhere.
"""

from __future__ import annotations

from pathlib import Path

from facilitator.history import db as _db
from facilitator.history.trends import StoredSession, compare, load, parse_since

__all__ = ["record_session", "query", "compare", "parse_since", "StoredSession"]


def record_session(session_dir: Path, db_path: Path | None = None) -> None:
    """Store (or update: idempotent by session id) the session in ``session_dir`` in the history."""
    from facilitator.report.load import load_session

    session = load_session(Path(session_dir))
    conn = _db.connect(db_path)
    try:
        with _db.guard(conn.db_path):
            _db.store_session(conn, session, Path(session_dir))
    finally:
        conn.close()


def query(db_path: Path | None = None, *, person: str | None = None, since: str | None = None) -> list[StoredSession]:
    """Stored sessions, oldest first (``since`` as accepted by ``--since``). No database → empty."""
    conn = _db.connect(db_path, create=False)
    if conn is None:
        return []
    try:
        with _db.guard(conn.db_path):
            return load(conn, person=person, since=parse_since(since))
    finally:
        conn.close()
