"""Session directories: create one, and write its summary files (session.json, segments.rttm)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from facilitator.errors import UserError
from facilitator.ledger import rttm_lines
from facilitator.paths import open_private, private_dir, sessions_dir


def new_session_id(label: str, now: datetime) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "session"
    return f"{now:%Y%m%d-%H%M%S}-{safe}"


def make_session_dir(out: str | Path | None, session_id: str) -> Path:
    """``out`` if given, else a fresh directory under the user's sessions dir (0700)."""
    path = Path(out) if out else sessions_dir() / session_id
    if path.exists() and not path.is_dir():
        raise UserError(f"{path} exists and is not a directory")
    try:
        private_dir(path)
    except OSError as exc:
        raise UserError(f"cannot create the session directory {path}: {exc.strerror}") from None
    return path


def write_summary_files(session_dir: Path, summary: dict, segments, uri: str) -> dict[str, Path]:
    """Write session.json and segments.rttm atomically (temp file + rename), 0600."""
    files = {
        "session.json": json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
        "segments.rttm": "".join(line + "\n" for line in rttm_lines(uri, _rttm_safe(segments))),
    }
    written = {}
    for name, text in files.items():
        target = session_dir / name
        tmp = session_dir / f".{name}.tmp"
        try:
            with open_private(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
            tmp.replace(target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UserError(f"cannot write {target}: {exc.strerror}") from None
        written[name] = target
    return written


def _rttm_safe(segments):
    """RTTM fields are space-separated: a name with spaces is written with underscores."""
    return [(a, b, re.sub(r"\s+", "_", name)) for a, b, name in segments]


def write_ledger(session_dir: Path, ledger, duration_s: float, uri: str) -> dict:
    """The ledger's summary (and segments) as session.json and segments.rttm; returns the summary."""
    summary = ledger.summary(duration_s)
    write_summary_files(Path(session_dir), summary, ledger.closed_segments(duration_s), uri)
    return summary


def close_session(session_dir: Path, ledger, duration_s: float, uri: str, history: bool = True) -> dict:
    """End of a session (replay, live or recovered): summary files, history row, reports."""
    summary = write_ledger(session_dir, ledger, duration_s, uri)
    finish_session(session_dir, summary, history=history)
    return summary


def finish_session(session_dir: Path, summary: dict, history: bool = True) -> None:
    """The history row, then the reports, where those parts are installed.

    The reports come last so that a session directory with ``report.html`` is known to be finished;
    a process killed before that point leaves a directory ``facilitator recover`` completes (storing
    the history row again is harmless: it is keyed by the session id).
    """
    if history:
        try:
            from facilitator.history import record_session
        except ImportError:
            record_session = None
        if record_session is not None:
            record_session(session_dir)
    try:
        from facilitator.report import write_reports
    except ImportError:
        write_reports = None
    if write_reports is not None:
        try:
            write_reports(session_dir)
        except OSError as exc:  # e.g. the disk filled up: the session itself is already safe
            for tmp in Path(session_dir).glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
            raise UserError(f"cannot write the reports in {session_dir} ({exc.strerror or exc}); "
                            "the session itself is kept — free some space and run "
                            f"'facilitator report {session_dir}'") from None


